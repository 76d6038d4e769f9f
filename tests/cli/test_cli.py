"""The person's CLI: commands, --json, passphrases from a terminal or a file
descriptor, exit codes (0 success, 1 negative answer, 2 usage or error)."""
import base64
import json
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import time
import unittest

from btproto import CLI, Host, cli, new_home

PASS = "correct horse battery"


def capture(home, text, url="https://www.instagram.com/accounts/suspended/"):
    out = cli(home, "--json", "capture", "--manual", "--url", url, stdin=text.encode())
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["id"]


class Commands(unittest.TestCase):
    def setUp(self):
        self.home = new_home()

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def test_status_says_not_protected_until_a_passphrase(self):
        out = cli(self.home, "status")
        self.assertEqual(out.returncode, 0)
        self.assertIn(b"NOT PROTECTED YET", out.stdout)
        self.assertEqual(cli(self.home, "--passphrase-fd", "0", "passphrase", stdin=PASS.encode()).returncode, 0)
        st = json.loads(cli(self.home, "--json", "status").stdout)
        self.assertEqual(st["state"], "locked")
        self.assertNotIn(b"NOT PROTECTED", cli(self.home, "status").stdout)

    def test_list_and_show_need_the_right_passphrase(self):
        rid = capture(self.home, "We suspended your account.")
        cli(self.home, "passphrase", passphrase=PASS)
        out = cli(self.home, "list", passphrase="not the passphrase")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"wrong passphrase", out.stderr)
        out = cli(self.home, "--json", "list", passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([e["id"] for e in json.loads(out.stdout)["entries"]], [rid])
        out = cli(self.home, "show", str(rid), passphrase=PASS)
        self.assertEqual(out.returncode, 0)
        self.assertIn(b"We suspended your account.", out.stdout)

    def test_exit_codes(self):
        capture(self.home, "x")
        self.assertEqual(cli(self.home, "show", "99").returncode, 1)  # not found
        self.assertEqual(cli(self.home, "show", "abc").returncode, 2)  # usage
        self.assertEqual(cli(self.home, "frobnicate").returncode, 2)
        self.assertEqual(cli(self.home).returncode, 2)
        self.assertEqual(cli(self.home, "--passphrase", PASS, "list").returncode, 2)  # never from argv
        for args in (["--help"], ["list", "--help"], ["install", "-h"]):
            out = cli(self.home, *args)
            self.assertEqual(out.returncode, 0)
            self.assertIn(b"Usage: bantrail", out.stdout)

    def test_verify_names_the_altered_entry(self):
        for i in range(3):
            capture(self.home, f"notice {i}")
        self.assertEqual(cli(self.home, "verify").returncode, 0)
        db = sqlite3.connect(os.path.join(self.home, "log.sqlite"))
        head = bytearray(db.execute("SELECT head FROM entries WHERE id = 2").fetchone()[0])
        head[3] ^= 1
        db.execute("UPDATE entries SET head = ? WHERE id = 2", (bytes(head),))
        db.commit()
        db.close()
        out = cli(self.home, "verify")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"FAILED at entry 2", out.stdout)
        v = json.loads(cli(self.home, "--json", "verify").stdout)
        self.assertEqual((v["ok"], v["bad_id"], v["checked"]), (False, 2, 1))

    def test_recovery_code_resets_a_forgotten_passphrase(self):
        rid = capture(self.home, "kept")
        cli(self.home, "passphrase", passphrase=PASS)
        out = cli(self.home, "--json", "recovery-code", passphrase=PASS)
        code = json.loads(out.stdout)["code"]
        out = cli(self.home, "passphrase", "--recovery", passphrase=["0000-1111", "a new passphrase"])
        self.assertEqual(out.returncode, 1)
        out = cli(self.home, "passphrase", "--recovery", passphrase=[code, "a new passphrase"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(cli(self.home, "show", str(rid), passphrase=PASS).returncode, 1)
        self.assertEqual(cli(self.home, "show", str(rid), passphrase="a new passphrase").returncode, 0)

    def test_changing_the_passphrase_reads_old_then_new(self):
        cli(self.home, "passphrase", passphrase=PASS)
        self.assertEqual(cli(self.home, "passphrase", passphrase=["wrong one!", "next passphrase"]).returncode, 1)
        self.assertEqual(cli(self.home, "passphrase", passphrase=[PASS, "next passphrase"]).returncode, 0)
        self.assertEqual(cli(self.home, "list", passphrase="next passphrase").returncode, 0)

    def test_show_saves_an_attachment_without_overwriting(self):
        rid = capture(self.home, "with a screenshot")
        png = os.urandom(700_000)  # two pages
        h = Host(self.home)
        aid = h.ok("attach", {"record": rid, "mime": "image/png", "data": base64.b64encode(png).decode()})["id"]
        h.close()
        dest = os.path.join(self.home, "shot.png")
        self.assertEqual(cli(self.home, "show", str(aid), "-o", dest).returncode, 0)
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), png)
        self.assertEqual(cli(self.home, "show", str(aid), "-o", dest).returncode, 2)  # exists: refused
        link = os.path.join(self.home, "link.png")
        os.symlink(os.path.join(self.home, "elsewhere"), link)
        self.assertEqual(cli(self.home, "show", str(aid), "-o", link).returncode, 2)
        self.assertFalse(os.path.exists(os.path.join(self.home, "elsewhere")))
        self.assertIn(f"Attached:  record {aid}, image/png, 700000 bytes".encode(), cli(self.home, "show", str(rid)).stdout)

    def test_stored_text_cannot_drive_the_terminal(self):
        rid = capture(self.home, "evil \x1b]0;pwned\x07 \x1b[2J text \u202e")
        out = cli(self.home, "show", str(rid)).stdout
        self.assertNotIn(b"\x1b", out)
        self.assertNotIn(b"\x07", out)
        self.assertNotIn("\u202e".encode(), out)
        self.assertIn(b"text", out)


class Terminal(unittest.TestCase):
    """Passphrases typed at a terminal: prompted, not echoed, asked twice."""

    def setUp(self):
        self.home = new_home()

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def talk(self, args, answers):
        """Runs the CLI on a pseudo-terminal, answering each prompt in turn."""
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["BANTRAIL_HOME"] = self.home
            os.execv(CLI, [CLI, *args])
        seen, deadline = b"", time.monotonic() + 60

        def read_some():
            nonlocal seen
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # the child has gone
                    return False
                seen += chunk
                return bool(chunk)
            return True

        for n, answer in enumerate(answers, 1):
            # answer only once the n-th prompt is up: typed-ahead input is flushed
            while seen.count(b": ") < n and time.monotonic() < deadline and read_some():
                pass
            os.write(fd, answer.encode() + b"\n")
        while time.monotonic() < deadline and read_some():  # until the child closes the terminal
            pass
        if time.monotonic() >= deadline:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), seen

    def test_passphrase_is_asked_twice_and_not_echoed(self):
        code, seen = self.talk(["passphrase"], [PASS, PASS])
        self.assertEqual(code, 0, seen)
        self.assertIn(b"New passphrase:", seen)
        self.assertIn(b"Repeat it:", seen)
        self.assertNotIn(PASS.encode(), seen)
        code, seen = self.talk(["list"], [PASS])
        self.assertEqual(code, 0, seen)

    def test_two_different_entries_change_nothing(self):
        code, seen = self.talk(["passphrase"], [PASS, PASS + "!"])
        self.assertEqual(code, 1)
        self.assertIn(b"differ", seen)
        self.assertIn(b"NOT PROTECTED YET", cli(self.home, "status").stdout)


if __name__ == "__main__":
    unittest.main()
