"""The person's CLI: commands, --json, passphrases from a terminal or a file
descriptor, exit codes (0 success, 1 negative answer, 2 usage or error)."""
import base64
import json
import os
import pty
import re
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

    def test_list_names_the_records_it_cannot_read_and_fails(self):
        for i in range(3):
            capture(self.home, f"notice {i}")
        self.assertEqual(cli(self.home, "list").returncode, 0)
        db = sqlite3.connect(os.path.join(self.home, "log.sqlite"))
        # a deletion with the later hashes recomputed: entry 3's hash no longer follows its content
        db.execute("UPDATE entries SET hash = zeroblob(32) WHERE id = 3")
        db.commit()
        db.close()
        out = cli(self.home, "list")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"     3  UNREADABLE: data failed authentication", out.stdout)
        self.assertIn(b"1 record(s) above cannot be read", out.stderr)
        self.assertEqual(out.stdout.count(b"UNREADABLE"), 1)
        out = cli(self.home, "--json", "list")
        self.assertEqual(out.returncode, 2)
        self.assertEqual([e.get("error") for e in json.loads(out.stdout)["entries"]], [None, None, "corrupt"])
        self.assertEqual(cli(self.home, "show", "3").returncode, 2)
        self.assertEqual(cli(self.home, "show", "2").returncode, 0)

    def test_status_on_a_damaged_log_says_it_cannot_be_opened(self):
        capture(self.home, "kept")
        cli(self.home, "passphrase", passphrase=PASS)
        self.assertEqual(cli(self.home, "status").returncode, 0)
        path = os.path.join(self.home, "log.sqlite")
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'sqlite_autoindex_keywrap_1'").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
        db.close()
        with open(path, "r+b") as f:  # the key table's index page overwritten
            f.seek((root - 1) * size)
            f.write(b"\xaa" * size)
        before = open(path, "rb").read()
        out = cli(self.home, "status")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"CANNOT BE OPENED: data failed authentication", out.stdout)
        self.assertNotIn(b"NOT PROTECTED", out.stdout)
        self.assertNotIn(b"Entries", out.stdout)
        self.assertEqual(cli(self.home, "list", passphrase=PASS).returncode, 2)
        self.assertEqual(open(path, "rb").read(), before, "nothing written to a damaged log")

    def test_rotate_makes_a_new_key_pair_under_the_same_passphrase(self):
        rid = capture(self.home, "We suspended your account before the rotation.")
        self.assertEqual(cli(self.home, "rotate", passphrase=PASS).returncode, 1)  # no passphrase yet
        cli(self.home, "passphrase", passphrase=PASS)
        key = json.loads(cli(self.home, "--json", "status").stdout)["public_key"]
        self.assertEqual(cli(self.home, "rotate", passphrase="not the passphrase").returncode, 1)
        self.assertEqual(json.loads(cli(self.home, "--json", "status").stdout)["public_key"], key)
        out = cli(self.home, "rotate", passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"New key pair made", out.stdout)
        self.assertNotEqual(json.loads(cli(self.home, "--json", "status").stdout)["public_key"], key)
        later = capture(self.home, "We disabled your account after the rotation.")
        for i in (rid, later):  # the same passphrase opens both sides of it
            self.assertEqual(cli(self.home, "show", str(i), passphrase=PASS).returncode, 0)
        self.assertEqual(json.loads(cli(self.home, "--json", "verify").stdout)["ok"], True)

    def test_recovery_code_resets_a_forgotten_passphrase(self):
        rid = capture(self.home, "kept")
        cli(self.home, "passphrase", passphrase=PASS)
        out = cli(self.home, "--json", "recovery-code", passphrase=PASS)
        code = json.loads(out.stdout)["code"]
        out = cli(self.home, "passphrase", "--recovery", passphrase=["0000-1111", "a new passphrase"])
        self.assertEqual(out.returncode, 1)
        out = cli(self.home, "passphrase", "--recovery", passphrase=[code, "a new passphrase"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"under a new key", out.stdout)
        self.assertIn(b"earlier recovery code no longer works", out.stdout)
        self.assertEqual(cli(self.home, "show", str(rid), passphrase=PASS).returncode, 1)
        self.assertEqual(cli(self.home, "show", str(rid), passphrase="a new passphrase").returncode, 0)
        out = cli(self.home, "passphrase", "--recovery", passphrase=[code, "a third passphrase"])
        self.assertEqual(out.returncode, 1)  # used: it wrapped the older key only

    def test_a_recovery_code_that_could_not_be_shown_never_replaces_the_earlier(self):
        cli(self.home, "passphrase", passphrase=PASS)
        first = json.loads(cli(self.home, "--json", "recovery-code", passphrase=PASS).stdout)["code"]
        self.assertIn(b"Recovery code: set\n", cli(self.home, "status").stdout)
        self.assertNotIn(b"never confirmed", cli(self.home, "status").stdout)
        # the terminal is gone (stdout on a full device): the new code never reached the person
        r, w = os.pipe()
        os.write(w, PASS.encode() + b"\n")
        os.close(w)
        with open("/dev/full", "wb") as full:
            lost = subprocess.run([CLI, "--passphrase-fd", str(r), "recovery-code"], stdout=full,
                                  stderr=subprocess.PIPE, pass_fds=(r,), timeout=120,
                                  env=dict(os.environ, BANTRAIL_HOME=self.home))
        os.close(r)
        self.assertEqual(lost.returncode, 2)
        self.assertIn(b"your earlier recovery code still works", lost.stderr)
        out = cli(self.home, "status").stdout
        self.assertIn(b"Recovery code: set\n", out)
        self.assertIn(b"never confirmed as shown", out)
        self.assertIn(b"the earlier code is the one that works", out)
        out = cli(self.home, "passphrase", "--recovery", passphrase=[first, "a new passphrase"])
        self.assertEqual(out.returncode, 0, out.stderr)

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


ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


class CommandLine(unittest.TestCase):
    """The command table: an overview, each command's own help and options,
    --version, unknown commands and what event add accepts."""

    def setUp(self):
        self.home = new_home()

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def test_the_overview_is_short_and_points_to_each_commands_help(self):
        out = cli(self.home, "--help")
        self.assertEqual(out.returncode, 0)
        for line in (b"  status ", b"  case merge A B ", b"  event add ", b"  report withdraw ", b"  export "):
            self.assertIn(line, out.stdout)
        self.assertIn(b"bantrail COMMAND --help", out.stdout)
        self.assertLess(out.stdout.count(b"\n"), 50)
        self.assertNotIn(b"--after", out.stdout)  # a command's options are in its own help
        self.assertNotIn(b"--user-data-dir", out.stdout)
        out = cli(self.home)  # no command: the overview, as an error
        self.assertEqual((out.returncode, out.stdout), (2, b""))
        self.assertIn(b"bantrail COMMAND --help", out.stderr)

    def test_a_commands_help_shows_its_options_and_no_others(self):
        for cmd, own, others in ((["list"], [b"--after ID", b"--limit N"], [b"--url", b"--browser", b"-o FILE"]),
                                 (["capture"], [b"--url URL", b"--manual"], [b"--after", b"--case"]),
                                 (["report", "save"], [b"--id N", b"-o FILE"], [b"--union", b"--yes"]),
                                 (["install"], [b"--browser NAME", b"--user-data-dir DIR"], [b"--url", b"--id"])):
            out = cli(self.home, *cmd, "--help")
            self.assertEqual(out.returncode, 0, cmd)
            self.assertTrue(out.stdout.startswith(b"Usage: bantrail"), cmd)
            self.assertIn(b"bantrail " + " ".join(cmd).encode(), out.stdout.split(b"\nExample:\n")[1])
            for opt in own + [b"--json"]:
                self.assertIn(opt, out.stdout, (cmd, opt))
            for opt in others:
                self.assertNotIn(opt, out.stdout, (cmd, opt))
            self.assertEqual(cli(self.home, "help", *cmd).stdout, out.stdout)
        group = cli(self.home, "case", "--help")
        self.assertEqual(group.returncode, 0)
        self.assertIn(b"case split RECORD", group.stdout)
        self.assertNotIn(b"report send", group.stdout)
        out = cli(self.home, "case")  # a group alone is not a command
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"case show N", out.stderr)
        self.assertEqual(cli(self.home, "help", "frobnicate").returncode, 2)

    def test_an_option_of_another_command_is_refused_by_name(self):
        capture(self.home, "We suspended your account.")
        self.assertEqual(cli(self.home, "--json", "list", "--limit", "1").returncode, 0)
        self.assertEqual(cli(self.home, "--limit", "1", "list").returncode, 0)  # before the command, as ever
        out = cli(self.home, "list", "--url", "https://example.org/")
        self.assertEqual((out.returncode, out.stdout), (2, b""))
        self.assertIn(b"list does not take --url", out.stderr)
        self.assertIn(b"capture", out.stderr)  # the commands that do
        out = cli(self.home, "verify", "-o", "x")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"verify does not take -o", out.stderr)
        out = cli(self.home, "list", "--no-such-option")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"unknown option --no-such-option for list", out.stderr)
        out = cli(self.home, "verify", "extra")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"verify: unexpected argument 'extra'", out.stderr)
        out = cli(self.home, "list", "--limit", "x")  # its own option, with a bad value
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"--limit: 'x' will not do", out.stderr)

    def test_reading_commands_on_a_folder_with_no_log_make_none_and_say_so(self):
        typo = os.path.join(self.home, "typo")
        for args in (["verify"], ["list"], ["show", "1"], ["case", "list"], ["case", "show", "1"], ["report", "list"],
                     ["export", "--case", "1", "--format", "html", "-o", os.path.join(self.home, "x.html")]):
            out = cli(typo, *args)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn(b"no log in " + typo.encode(), out.stderr, args)
            self.assertNotIn(b"chain holds", out.stdout)
            self.assertFalse(os.path.exists(typo), f"{args} made {typo}")
        out = cli(typo, "--json", "verify")
        self.assertEqual(json.loads(out.stdout)["code"], "no_log")
        # a command that writes still makes the log, and then reading works
        capture(typo, "We suspended your account.")
        self.assertEqual(cli(typo, "verify").returncode, 0)
        self.assertEqual(cli(typo, "list").returncode, 0)

    def test_a_refused_option_opens_no_log(self):
        self.assertEqual(cli(self.home, "status", "--browser", "chrome").returncode, 2)
        self.assertFalse(any(n.endswith(".sqlite") for n in os.listdir(self.home)))
        self.assertEqual(cli(self.home, "status").returncode, 0)
        self.assertTrue(any(n.endswith(".sqlite") for n in os.listdir(self.home)))

    def test_version_is_the_projects(self):
        with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
            version = re.search(r"project\(bantrail VERSION ([0-9.]+)", f.read()).group(1)
        out = cli(self.home, "--version")
        self.assertEqual((out.returncode, out.stdout.decode()), (0, f"bantrail {version}\n"))
        out = cli(self.home, "--versoin")
        self.assertEqual((out.returncode, out.stdout), (2, b""))
        self.assertIn(b"unknown option --versoin", out.stderr)

    def test_an_unknown_command_names_the_nearest_and_not_the_whole_help(self):
        out = cli(self.home, "frobnicate")
        self.assertEqual((out.returncode, out.stdout), (2, b""))
        self.assertEqual(out.stderr, b"bantrail: unknown command 'frobnicate'\nsee bantrail --help\n")
        out = cli(self.home, "stauts")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"unknown command 'stauts'; did you mean 'status'?", out.stderr)
        self.assertNotIn(b"Commands:", out.stderr)
        out = cli(self.home, "case", "shwo", "1")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"unknown command 'case shwo'; did you mean 'case show'?", out.stderr)
        self.assertEqual(cli(self.home, "status").returncode, 0)

    def test_event_add_names_the_events_and_the_time_format(self):
        h = Host(self.home)
        events = h.ok("hello")["vocabulary"]["events"]  # the core's names
        h.close()
        self.assertIn("appeal_submitted", events)
        for args in (["--event", "appealed"], [], ["--event", "decision", "--at", "March 3rd"]):
            out = cli(self.home, "event", "add", "--platform", "instagram", *(args or ["--at", "2026-03-03"]))
            self.assertEqual((out.returncode, out.stdout), (2, b""), args)
            self.assertIn(b"E is one of: " + ", ".join(events).encode(), out.stderr)
            self.assertIn(b"YYYY-MM-DD", out.stderr)
        self.assertIn(b"no event is called 'appealed'", cli(self.home, "event", "add", "--platform", "instagram",
                                                             "--event", "appealed", "--at", "2026-03-03").stderr)
        out = cli(self.home, "event", "add", "--platform", "instagram", "--event", "appeal_submitted",
                  "--at", "2026-03-03T10:05Z")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"entered by hand", out.stdout)
        self.assertNotIn(b"E is one of", out.stderr)


class Session(unittest.TestCase):
    """bantrail unlock keeps the log unlocked for this user's commands, for a few idle minutes."""

    def setUp(self):
        self.home = new_home()
        capture(self.home, "We suspended your account.")
        self.assertEqual(cli(self.home, "passphrase", passphrase=PASS).returncode, 0)
        self.sock = os.path.join(self.home, "session.sock")

    def tearDown(self):
        cli(self.home, "lock")
        shutil.rmtree(self.home, ignore_errors=True)

    def test_a_log_without_a_passphrase_has_nothing_to_unlock(self):
        home = new_home()
        try:
            capture(home, "We suspended your account.")
            out = cli(home, "unlock", passphrase="anything at all")
            self.assertEqual(out.returncode, 1)
            self.assertIn(b"no passphrase yet", out.stdout)
            self.assertFalse(os.path.exists(os.path.join(home, "session.sock")))
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def test_unlocked_commands_ask_nothing_until_lock(self):
        self.assertNotEqual(cli(self.home, "list").returncode, 0, "locked: needs the passphrase")
        out = cli(self.home, "unlock", passphrase="not it")
        self.assertNotEqual(out.returncode, 0)
        self.assertFalse(os.path.exists(self.sock), "a wrong passphrase starts nothing")
        out = cli(self.home, "unlock", "--minutes", "3", passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o600)
        for args in (["list"], ["show", "1"], ["case", "list"], ["--json", "status"]):  # no passphrase given
            out = cli(self.home, *args)
            self.assertEqual(out.returncode, 0, (args, out.stderr))
        self.assertEqual(json.loads(cli(self.home, "--json", "status").stdout)["state"], "unlocked")
        self.assertIn(b"Already unlocked", cli(self.home, "unlock").stdout)
        self.assertIn(b"Locked.", cli(self.home, "lock").stdout)
        self.assertFalse(os.path.exists(self.sock))
        self.assertNotEqual(cli(self.home, "list").returncode, 0, "locked again")
        self.assertIn(b"No unlocked session", cli(self.home, "lock").stdout)

    def test_a_folder_whose_socket_path_is_longer_than_an_address_holds_still_has_a_session(self):
        deep = os.path.join(self.home, "a-folder-name-of-some-length" * 4)  # the socket's path: > 108 bytes
        os.makedirs(deep)
        capture(deep, "We suspended your account.")
        self.assertEqual(cli(deep, "passphrase", passphrase=PASS).returncode, 0)
        sock = os.path.join(deep, "session.sock")
        self.assertGreater(len(sock), 108)
        try:
            out = cli(deep, "unlock", passphrase=PASS)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertTrue(os.path.exists(sock), "the socket is in the log's folder")
            out = cli(deep, "--json", "status")  # no passphrase given: answered by the session
            self.assertEqual(json.loads(out.stdout)["state"], "unlocked", out.stderr)
            self.assertFalse(os.path.exists(os.path.join(os.getcwd(), "session.sock")), "nothing where the command ran")
        finally:
            self.assertIn(b"Locked.", cli(deep, "lock").stdout)
        self.assertFalse(os.path.exists(sock))
        self.assertNotEqual(cli(deep, "list").returncode, 0, "locked again")

    def test_another_user_cannot_reach_it_and_a_dead_session_is_forgotten(self):
        self.assertEqual(cli(self.home, "unlock", passphrase=PASS).returncode, 0)
        if os.getuid() == 0:  # as someone else: the socket is this user's alone
            pid = os.fork()
            if pid == 0:
                import socket
                os.setgid(65534)
                os.setuid(65534)
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(self.sock)
                    os._exit(1)
                except OSError:
                    os._exit(0)
            self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 0, "another user connected")
        subprocess.run(["pkill", "-9", "-f", f"^{CLI} .*unlock"], check=False)
        time.sleep(0.3)
        out = cli(self.home, "list")  # no session: asks, and finds no passphrase
        self.assertNotEqual(out.returncode, 0)
        self.assertFalse(os.path.exists(self.sock), "the dead session's socket is removed")
        self.assertEqual(cli(self.home, "list", passphrase=PASS).returncode, 0)

    def test_it_locks_after_its_idle_minutes(self):
        self.assertEqual(cli(self.home, "unlock", "--minutes", "1", passphrase=PASS).returncode, 0)
        self.assertEqual(cli(self.home, "list").returncode, 0)
        deadline = time.monotonic() + 130
        while os.path.exists(self.sock) and time.monotonic() < deadline:
            time.sleep(1)
        self.assertFalse(os.path.exists(self.sock), "still unlocked after its idle minute")
        self.assertNotEqual(cli(self.home, "list").returncode, 0)


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

    def test_a_wrong_passphrase_at_a_terminal_gets_three_tries_and_a_stream_one(self):
        self.assertEqual(self.talk(["passphrase"], [PASS, PASS])[0], 0)
        capture(self.home, "We suspended your account.")
        code, seen = self.talk(["list"], ["wrong one", "wrong two", PASS])
        self.assertEqual(code, 0, seen)
        self.assertIn(b"Try again (2 of 3)", seen)
        self.assertIn(b"Try again (3 of 3)", seen)
        self.assertIn(b"Unlocking (Argon2id, a moment)...\r\x1b[K", seen)  # said while it works, then cleared
        self.assertIn(b"accounts/suspended", seen)
        code, seen = self.talk(["list"], ["wrong one", "wrong two", "wrong three", PASS])
        self.assertNotEqual(code, 0, seen)
        self.assertEqual(seen.count(b"Passphrase:"), 3, seen)  # no fourth
        self.assertNotIn(b"accounts/suspended", seen)
        out = cli(self.home, "--passphrase-fd", "0", "list", stdin=b"wrong\n" + PASS.encode() + b"\n")
        self.assertNotEqual(out.returncode, 0)  # a script's stream: one try
        self.assertNotIn(b"Try again", out.stderr)

    def test_two_different_entries_change_nothing(self):
        code, seen = self.talk(["passphrase"], [PASS, PASS + "!"])
        self.assertEqual(code, 1)
        self.assertIn(b"differ", seen)
        self.assertIn(b"NOT PROTECTED YET", cli(self.home, "status").stdout)


if __name__ == "__main__":
    unittest.main()
