"""bantrail install / uninstall / doctor against a throwaway home folder."""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from btproto import CLI, HOST

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CHROMIUM_DIRS = {"chrome": ".config/google-chrome", "chromium": ".config/chromium",
                 "brave": ".config/BraveSoftware/Brave-Browser", "edge": ".config/microsoft-edge",
                 "vivaldi": ".config/vivaldi"}
FIREFOX_MANIFEST = ".mozilla/native-messaging-hosts/org.bantrail.host.json"
ORIGIN = "chrome-extension://bnmdnnfnpiijlnoabddbmgcfkcfcmknl/"


def manifest_path(home, browser):
    if browser == "firefox":
        return os.path.join(home, FIREFOX_MANIFEST)
    return os.path.join(home, CHROMIUM_DIRS[browser], "NativeMessagingHosts", "org.bantrail.host.json")


class Install(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="bt-install-")
        self.env = dict(os.environ, HOME=self.home, BANTRAIL_HOME=os.path.join(self.home, "log"))
        self.env.pop("XDG_CONFIG_HOME", None)

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def run_cli(self, *args):
        return subprocess.run([CLI, *args], capture_output=True, text=True, env=self.env, timeout=60)

    def test_install_all_writes_every_manifest_and_doctor_passes(self):
        self.assertEqual(self.run_cli("doctor").returncode, 1)  # nothing registered yet
        out = self.run_cli("install", "--browser", "all")
        self.assertEqual(out.returncode, 0, out.stderr)
        for b in list(CHROMIUM_DIRS) + ["firefox"]:
            with open(manifest_path(self.home, b)) as f:
                m = json.load(f)
            self.assertEqual(m["name"], "org.bantrail.host")
            self.assertEqual(m["type"], "stdio")
            self.assertEqual(os.path.realpath(m["path"]), os.path.realpath(HOST))
            if b == "firefox":
                self.assertEqual(m["allowed_extensions"], ["bantrail@bantrail.org"])
            else:
                self.assertEqual(m["allowed_origins"], [ORIGIN])
        doc = self.run_cli("--json", "doctor")
        self.assertEqual(doc.returncode, 0, doc.stdout)
        rows = json.loads(doc.stdout)
        self.assertTrue(all(r["ok"] and r["vault"]["state"] == "unprotected" for r in rows), rows)

    def test_user_data_dir_gets_its_own_manifest(self):
        udd = os.path.join(self.home, "profile")
        self.assertEqual(self.run_cli("install", "--user-data-dir", udd).returncode, 0)
        with open(os.path.join(udd, "NativeMessagingHosts", "org.bantrail.host.json")) as f:
            self.assertEqual(json.load(f)["allowed_origins"], [ORIGIN])
        self.assertEqual(self.run_cli("doctor", "--user-data-dir", udd).returncode, 0)
        self.assertFalse(os.path.exists(manifest_path(self.home, "chromium")))
        self.assertEqual(self.run_cli("install", "--browser", "firefox", "--user-data-dir", udd).returncode, 2)

    def test_doctor_names_a_broken_registration(self):
        self.run_cli("install", "--browser", "chromium")
        path = manifest_path(self.home, "chromium")
        with open(path) as f:
            m = json.load(f)
        m["path"] = "/nonexistent/bantrail-host"
        with open(path, "w") as f:
            json.dump(m, f)
        out = self.run_cli("doctor")
        self.assertEqual(out.returncode, 1)
        self.assertIn("missing or not executable", out.stdout)
        m["path"] = HOST
        m["allowed_origins"] = ["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]
        with open(path, "w") as f:
            json.dump(m, f)
        out = self.run_cli("doctor")
        self.assertEqual(out.returncode, 1)
        self.assertIn("does not allow", out.stdout)

    def test_uninstall_removes_ours_and_leaves_others(self):
        self.run_cli("install", "--browser", "all")
        foreign = manifest_path(self.home, "edge")
        with open(foreign, "w") as f:
            json.dump({"name": "com.example.other", "path": "/bin/true"}, f)
        self.assertEqual(self.run_cli("uninstall", "--browser", "all").returncode, 0)
        for b in ("chrome", "chromium", "brave", "vivaldi", "firefox"):
            self.assertFalse(os.path.exists(manifest_path(self.home, b)), b)
        self.assertTrue(os.path.exists(foreign))

    def test_install_replaces_a_symlink_without_following_it(self):
        target = os.path.join(self.home, "precious.txt")
        with open(target, "w") as f:
            f.write("keep me")
        path = manifest_path(self.home, "chromium")
        os.makedirs(os.path.dirname(path))
        os.symlink(target, path)
        self.assertEqual(self.run_cli("install", "--browser", "chromium").returncode, 0)
        self.assertFalse(os.path.islink(path))
        with open(target) as f:
            self.assertEqual(f.read(), "keep me")

    def test_sandboxed_browsers_are_explained(self):
        os.makedirs(os.path.join(self.home, ".var/app/org.chromium.Chromium"))
        out = self.run_cli("install", "--browser", "chromium")
        self.assertIn("Flatpak", out.stdout)
        self.assertIn("cannot start native programs", out.stdout)
        out = self.run_cli("install", "--browser", "brave")
        self.assertNotIn("Flatpak", out.stdout)

    def test_unknown_browser_is_a_usage_error(self):
        out = self.run_cli("install", "--browser", "netscape")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown browser", out.stderr)


class Ids(unittest.TestCase):
    """The extension's ids are written in several places; they must agree."""

    def test_ids_agree_everywhere(self):
        with open(os.path.join(ROOT, "include/bantrail/caller.h")) as f:
            header = f.read()
        chromium = re.search(r'BT_EXTENSION_ID_CHROMIUM "([a-p]{32})"', header).group(1)
        gecko = re.search(r'BT_EXTENSION_ID_GECKO "([^"]+)"', header).group(1)
        with open(os.path.join(ROOT, "manifests/windows-install.ps1")) as f:
            ps1 = f.read()
        self.assertIn(f"$ChromiumId = '{chromium}'", ps1)
        self.assertIn(f"$GeckoId = '{gecko}'", ps1)
        ext = os.path.join(ROOT, "extension/manifest.json")
        if os.path.exists(ext):
            with open(ext) as f:
                m = json.load(f)
            digest = hashlib.sha256(base64.b64decode(m["key"])).hexdigest()[:32]
            self.assertEqual("".join(chr(ord("a") + int(c, 16)) for c in digest), chromium)
            self.assertEqual(m["browser_specific_settings"]["gecko"]["id"], gecko)


if __name__ == "__main__":
    unittest.main()
