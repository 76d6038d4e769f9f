"""A full disk under the real host and the CLI, made real: the host's files may not grow past a size
(RLIMIT_FSIZE, with SIGXFSZ ignored, so that a write past it fails with EFBIG as a full disk's
fails with ENOSPC). Each says so as `disk_full` ("the disk is full: free some space; nothing
already stored was lost"), never as the generic `storage`; no acknowledged capture is lost; capture
resumes when space returns; sealed captures kept while locked still wait at an unlock on a full
disk, and the unlock says so. Beside it, the negative cases: a log that cannot be used for another
reason (written by a newer Bantrail) is still `storage`, and reads go on while the disk is full."""
import ctypes
import base64
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import unittest

from btproto import CLI, Host, cli, new_home

NOTICE = {"url": "https://www.instagram.com/accounts/suspended/", "title": "Suspended", "lang": "en",
          "manual": True}
FULL = "the disk is full: free some space; nothing already stored was lost"
PASS = "correct horse battery staple"
UNLIMITED = resource.RLIM_INFINITY


def notice(i):
    return dict(NOTICE, text=f"We suspended your account, notice {i}. " + "x" * 2000)


def no_sigxfsz(limit=UNLIMITED):
    """For a child before exec: SIGXFSZ ignored (kept across exec), its files limited to limit bytes."""
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, UNLIMITED))
    return pre


def largest_file(home):
    return max(os.path.getsize(os.path.join(home, f)) for f in os.listdir(home))


def fill(host, limit):
    """The disk of the running host is full: none of its files grows past limit bytes (the soft
    limit only, which the host's owner may raise again: space returns)."""
    resource.prlimit(host.proc.pid, resource.RLIMIT_FSIZE, (limit, UNLIMITED))


def seal(public_key_b64, obj):
    """crypto_box_seal of obj's JSON to the log's public key, base64, as the extension seals."""
    sodium = ctypes.CDLL("libsodium.so.23")
    assert sodium.sodium_init() >= 0
    msg = json.dumps(obj).encode()
    out = ctypes.create_string_buffer(len(msg) + 48)
    pk = base64.b64decode(public_key_b64)
    assert sodium.crypto_box_seal(out, msg, ctypes.c_ulonglong(len(msg)), pk) == 0
    return base64.b64encode(out.raw).decode()


class DiskFull(unittest.TestCase):
    def setUp(self):
        self.home = new_home()
        self.host = Host(self.home, preexec=no_sigxfsz())

    def tearDown(self):
        if self.host.proc.poll() is None:
            self.host.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def capture_until_full(self, first):
        """Captures until the disk refuses one; returns the acknowledged ids and the refusal."""
        acked = {}
        for i in range(first, first + 2000):
            rep = self.host.call("capture", notice(i))
            if "error" in rep:
                return acked, rep["error"]
            acked[rep["result"]["id"]] = i
        self.fail("the disk never filled")

    def all_there(self, acked, passphrase=None):
        h = Host(self.home)
        try:
            if passphrase is not None:
                h.ok("unlock", {"passphrase": passphrase})
            for rid, i in acked.items():
                self.assertEqual(h.ok("get", {"id": rid})["record"]["text"], notice(i)["text"])
            self.assertTrue(h.ok("verify")["ok"])
        finally:
            h.close()

    def test_a_full_disk_is_said_as_such_and_loses_nothing_acknowledged(self):
        acked = {self.host.ok("capture", notice(i))["id"]: i for i in range(20)}
        fill(self.host, largest_file(self.home) + 16384)
        more, err = self.capture_until_full(100)
        acked.update(more)
        self.assertEqual(err["code"], "disk_full", err)
        self.assertEqual(err["message"], FULL)
        # it stays full: every write is refused the same way, an attachment and an event too
        self.assertEqual(self.host.call("capture", notice(5000))["error"]["code"], "disk_full")
        self.assertEqual(self.host.call("attach", {"record": min(acked), "mime": "image/png",
                                                   "data": base64.b64encode(b"x" * 65536).decode()})
                         ["error"]["code"], "disk_full")
        # the negative case beside it: reads go on, and nothing says the log is damaged
        rid = max(acked)
        self.assertEqual(self.host.ok("get", {"id": rid})["record"]["text"], notice(acked[rid])["text"])
        vault = self.host.ok("hello")["vault"]
        self.assertNotIn("damaged_at", vault)
        self.assertTrue(self.host.ok("verify")["ok"])
        # space returns: capture resumes in the same host
        fill(self.host, UNLIMITED)
        rep = self.host.ok("capture", notice(6000))
        acked[rep["id"]] = 6000
        self.host.close()
        self.all_there(acked)  # 0 acknowledged captures lost, and the chain verifies

    def test_the_cli_says_the_disk_is_full(self):
        self.host.ok("capture", notice(1))
        self.host.close()
        limit = largest_file(self.home)
        env = dict(os.environ, BANTRAIL_HOME=self.home)
        for i in range(2, 400):
            out = subprocess.run([CLI, "capture", "--url", NOTICE["url"], "--manual"],
                                 input=notice(i)["text"].encode(), capture_output=True, env=env, timeout=60,
                                 preexec_fn=no_sigxfsz(limit))
            if out.returncode != 0:
                break
        self.assertEqual(out.returncode, 2, out)
        self.assertIn(f"bantrail: {FULL}".encode(), out.stderr)
        # the negative case: with room, the same command stores it
        out = subprocess.run([CLI, "capture", "--url", NOTICE["url"], "--manual"], input=notice(999)["text"].encode(),
                             capture_output=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(cli(self.home, "verify").returncode, 0)

    def test_another_storage_failure_is_not_a_full_disk(self):
        self.host.ok("capture", notice(1))
        self.host.close()
        db = sqlite3.connect(os.path.join(self.home, "log.sqlite"))
        db.execute("PRAGMA user_version = 99")  # a log written by a newer Bantrail
        db.commit()
        db.close()
        self.host = Host(self.home, preexec=no_sigxfsz())
        self.assertEqual(self.host.ok("hello")["vault"]["error"], "storage")
        self.assertEqual(self.host.call("capture", notice(2))["error"]["code"], "storage")
        out = cli(self.home, "list")
        self.assertEqual(out.returncode, 2)
        self.assertNotIn(b"disk is full", out.stderr)

    def test_unlock_on_a_full_disk_says_sealed_captures_still_wait(self):
        h = self.host
        h.set_passphrase({"new": PASS})
        acked = {h.ok("capture", notice(i))["id"]: i for i in range(3)}
        pk = h.ok("hello")["vault"]["public_key"]
        h.ok("lock")
        for i in range(10, 13):
            r = h.ok("capture_sealed", {"sealed": seal(pk, {"v": 1, "capture": notice(i)})})
            self.assertTrue(r["pending"], r)
        fill(h, largest_file(self.home))
        r = h.ok("unlock", {"passphrase": PASS})
        self.assertEqual(r["delivered"], 0, r)
        self.assertEqual(r["waiting"], 3, r)
        self.assertEqual(r["waiting_error"], "disk_full", r)
        # the CLI, asked for the passphrase on the same full disk, says so too, and lists what is there
        r_fd, w_fd = os.pipe()
        os.write(w_fd, PASS.encode() + b"\n")
        os.close(w_fd)
        out = subprocess.run([CLI, "--passphrase-fd", str(r_fd), "list"], capture_output=True, timeout=60,
                             env=dict(os.environ, BANTRAIL_HOME=self.home), pass_fds=(r_fd,),
                             preexec_fn=no_sigxfsz(largest_file(self.home)))
        os.close(r_fd)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"3 sealed captures kept while the log was locked still wait: " + FULL.encode(), out.stderr)
        h.ok("lock")
        fill(h, UNLIMITED)
        r = h.ok("unlock", {"passphrase": PASS})
        self.assertEqual((r["delivered"], r["waiting"]), (3, 0), r)
        self.assertNotIn("waiting_error", r)
        texts = {h.ok("get", {"id": e["id"]})["record"].get("text") for e in h.ok("list", {"limit": 100})["entries"]}
        for i in list(range(3)) + list(range(10, 13)):
            self.assertIn(notice(i)["text"], texts)
        h.close()
        self.all_there(acked, PASS)

    def cli_full(self, *args):
        """The CLI, its passphrase through --passphrase-fd, on the same full disk as the host."""
        r_fd, w_fd = os.pipe()
        os.write(w_fd, PASS.encode() + b"\n")
        os.close(w_fd)
        try:
            return subprocess.run([CLI, "--passphrase-fd", str(r_fd)] + list(args), capture_output=True, timeout=60,
                                  env=dict(os.environ, BANTRAIL_HOME=self.home), pass_fds=(r_fd,),
                                  preexec_fn=no_sigxfsz(largest_file(self.home)))
        finally:
            os.close(r_fd)

    def test_bantrail_unlock_says_sealed_captures_still_wait_and_nothing_once_they_are_stored(self):
        h = self.host
        h.set_passphrase({"new": PASS})
        h.ok("capture", notice(0))
        pk = h.ok("hello")["vault"]["public_key"]
        h.ok("lock")
        for i in range(10, 12):
            self.assertTrue(h.ok("capture_sealed", {"sealed": seal(pk, {"v": 1, "capture": notice(i)})})["pending"])
        # 'bantrail unlock' (its files may not grow past the largest there, the host's write-ahead file open) starts a session whose own unlock could not store them: the command says so
        out = self.cli_full("unlock")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"Unlocked", out.stdout)
        self.assertIn(b"2 sealed captures kept while the log was locked still wait: " + FULL.encode(), out.stderr)
        self.assertEqual(cli(self.home, "lock").returncode, 0)
        # space back: the next one stores them and says nothing of waiting
        out = cli(self.home, "unlock", passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn(b"still wait", out.stderr)
        listed = cli(self.home, "list", "--json")
        self.assertEqual(cli(self.home, "lock").returncode, 0)
        h.close()
        self.assertEqual(listed.returncode, 0, listed.stderr)
        types = [e["type"] for e in json.loads(listed.stdout)["entries"]]
        self.assertEqual((types.count("notice"), types.count("sealed_done")), (3, 2), types)


if __name__ == "__main__":
    unittest.main()
