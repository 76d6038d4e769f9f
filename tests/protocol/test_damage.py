"""A damaged log under the real host: writes are refused with a clear error while reads go on,
`bantrail recover` copies what is intact into a new log (the damaged file kept beside it, byte for
byte) and the running host goes on with the new one; an intact log is left alone."""
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import unittest

from btproto import Host, HostTest, cli, frame, new_home

NOTICE = {"url": "https://www.instagram.com/accounts/suspended/", "title": "Suspended", "lang": "en",
          "manual": True}


def notice(i):
    return dict(NOTICE, text=f"We suspended your account, notice {i}. " + "x" * 1500)


def kill(h):
    h.proc.kill()
    h.proc.wait()
    for f in (h.proc.stdin, h.proc.stdout, h.proc.stderr):
        f.close()


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Damage(unittest.TestCase):
    def setUp(self):
        self.home = new_home()
        self.db = os.path.join(self.home, "log.sqlite")
        self.host = Host(self.home)
        self.ids = [self.host.ok("capture", notice(i))["id"] for i in range(1, 61)]

    def tearDown(self):
        if self.host.proc.poll() is None:
            self.host.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def restart(self):
        """The browser starts its host again (the last connection's close checkpoints the log)."""
        self.host.close()
        self.host = Host(self.home)

    def sql(self, text):
        db = sqlite3.connect(self.db)
        db.execute(text)
        db.commit()
        db.close()

    def flip_last(self):
        db = sqlite3.connect(self.db)
        head = bytearray(db.execute("SELECT head FROM entries WHERE id = 60").fetchone()[0])
        head[5] ^= 1
        db.execute("UPDATE entries SET head = ? WHERE id = 60", (bytes(head),))
        db.commit()
        db.close()

    def drop_row(self):
        self.sql("DELETE FROM entries WHERE id = 30")
        self.restart()  # a removed row is found by the next host to open the log (or by verify)

    def truncate(self):
        self.host.close()
        size = os.path.getsize(self.db)
        os.truncate(self.db, size * 2 // 3)
        self.host = Host(self.home)

    def refused_then_recovered(self, damage):
        damage()
        h = self.host
        rep = h.call("capture", notice(99))
        self.assertEqual(rep.get("error", {}).get("code"), "damaged", rep)
        self.assertIn("bantrail recover", rep["error"]["message"])
        for method, params in (("event_add", {"event": "other", "platform": "instagram", "at": 1700000000}),
                               ("attach", {"record": 1, "mime": "image/png", "data": "AAAA"})):
            self.assertEqual(h.call(method, params)["error"]["code"], "damaged")
        vault = h.ok("hello")["vault"]
        self.assertGreater(vault.get("damaged_at", 0), 0)
        self.assertEqual(h.ok("get", {"id": 1})["record"]["text"], notice(1)["text"])  # reads go on
        readable = {e["id"] for e in h.ok("list", {"limit": 200})["entries"] if "error" not in e}
        self.assertIn(1, readable)
        self.assertFalse(h.ok("verify")["ok"])
        status = cli(self.home, "status")
        self.assertEqual(status.returncode, 1)
        self.assertIn(b"DAMAGED", status.stdout)

        before = file_bytes(self.db)
        out = cli(self.home, "--json", "recover")  # while the host runs
        self.assertEqual(out.returncode, 0, out.stderr)
        rec = json.loads(out.stdout)
        self.assertTrue(rec["recovered"])
        self.assertEqual(file_bytes(os.path.join(self.home, rec["damaged_file"])), before)
        self.assertEqual(rec["kept"], len(readable))
        # the running host goes on with the new log: it verifies, reads and is written on
        self.assertNotIn("damaged_at", h.ok("hello")["vault"])
        v = h.ok("verify")
        self.assertTrue(v["ok"], v)
        for i in readable:
            self.assertEqual(h.ok("get", {"id": i})["record"]["text"], notice(i)["text"])
        lost = [i for i in range(1, rec["upto"] + 1) if i not in readable]
        for i in lost:
            self.assertEqual(h.ok("get", {"id": i})["record"]["type"], "lost")
        first = h.ok("get", {"id": 0})["record"]
        self.assertEqual(first["type"], "recovered")
        self.assertEqual(first["from"]["blake2b"], hashlib.blake2b(before, digest_size=32).hexdigest())
        self.assertEqual(first["from"]["file"], rec["damaged_file"])
        self.assertEqual(h.ok("capture", notice(100))["id"], rec["upto"] + 1)
        self.assertEqual(cli(self.home, "verify").returncode, 0)
        self.assertEqual(cli(self.home, "status").returncode, 0)
        return rec

    def test_a_flipped_byte_at_the_tail(self):
        rec = self.refused_then_recovered(self.flip_last)
        self.assertEqual((rec["kept"], rec["lost"]), (59, 1))

    def test_a_removed_row(self):
        rec = self.refused_then_recovered(self.drop_row)
        self.assertEqual((rec["kept"], rec["lost"]), (58, 2))  # and the one after it, whose link is gone

    def test_a_file_cut_short(self):
        rec = self.refused_then_recovered(self.truncate)
        self.assertTrue(rec["cut"])
        self.assertGreater(rec["kept"], 0)

    def test_recover_on_an_intact_log_does_nothing_and_says_so(self):
        self.host.close()
        before = {p: file_bytes(p) for p in glob.glob(os.path.join(self.home, "*"))}
        out = cli(self.home, "recover")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"intact", out.stdout)
        self.assertEqual(json.loads(cli(self.home, "--json", "recover").stdout), {"recovered": False})
        after = {p: file_bytes(p) for p in glob.glob(os.path.join(self.home, "*"))}
        self.assertEqual(after, before)
        self.host = Host(self.home)
        self.assertEqual(self.host.ok("capture", notice(61))["id"], 61)


class Tail(HostTest):
    """The tail cannot vanish unnoticed: every answer that wrote says the entry and chain head it
    acknowledged ("log"), and `verify` given them (the host's `at` and `head`, the CLI's
    `--expect ID:HEAD`) says "entries up to N were acknowledged, only M are here" of a log cut
    short, and refuses a log that does not lead through that head (an older copy restored, or an
    unrelated head); an intact log passes. Without the head, such a log verifies: the chain alone
    cannot tell."""

    def setUp(self):
        super().setUp()
        self.db = os.path.join(self.home, "log.sqlite")

    def capture(self, i):
        r = self.host.ok("capture", notice(i))
        self.assertEqual(r["log"]["entry"], r["id"])
        return r["log"]

    def verify(self, log):
        return self.host.ok("verify", {"at": log["entry"], "head": log["head"]})

    def cli_verify(self, log):
        return cli(self.home, "verify", "--expect", f"{log['entry']}:{log['head']}")

    def restart(self):
        self.host.close()
        self.host = Host(self.home)

    def test_every_answer_that_wrote_carries_its_entry_and_head(self):
        h = self.host
        log = self.capture(1)
        self.assertEqual(log["head"], h.ok("stats", {"at": log["entry"]})["hash_at"])
        att = h.ok("attach", {"record": log["entry"], "mime": "image/png", "data": "AAAA"})
        self.assertEqual(att["log"]["entry"], att["id"])
        self.assertEqual(att["log"]["head"], h.ok("hello")["vault"]["head"])
        ev = h.ok("event_add", {"event": "other", "platform": "instagram", "at": 1700000000})
        self.assertEqual(ev["log"]["entry"], h.ok("hello")["vault"]["entries"])
        # what wrote nothing says nothing: a page that is no notice, a read
        self.assertNotIn("log", h.ok("capture", {"url": "https://example.org/", "text": "Welcome back! Here is the weather."}))
        self.assertNotIn("log", h.ok("list", {"limit": 5}))
        self.assertNotIn("log", h.ok("verify"))
        # captures answered together (one durable commit): each its own entry and head
        frames = b"".join(frame({"id": 100 + i, "method": "capture", "params": notice(10 + i)}) for i in range(8))
        h.send_raw(frames)
        replies = [h.read() for _ in range(8)]
        for rep in replies:
            r = rep["result"]
            self.assertEqual(r["log"]["entry"], r["id"])
            self.assertEqual(r["log"]["head"], h.ok("stats", {"at": r["id"]})["hash_at"])
        self.assertEqual(len({rep["result"]["log"]["head"] for rep in replies}), 8)

    def test_an_intact_log_leads_through_the_head(self):
        logs = [self.capture(i) for i in range(1, 21)]
        self.restart()
        for log in (logs[0], logs[9], logs[-1]):
            v = self.verify(log)
            self.assertTrue(v["ok"], v)
            self.assertEqual((v["expected"]["holds"], v["expected"]["entries"]), (True, 20))
            self.assertNotIn("reason", v["expected"])
        out = self.cli_verify(logs[-1])
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn(b"It leads through entry 20 with the head expected.", out.stdout)

    def test_a_log_cut_short_says_what_was_acknowledged(self):
        logs = [self.capture(i) for i in range(1, 21)]
        self.host.close()
        db = sqlite3.connect(self.db)  # the tail cut off cleanly: what is left is a chain that holds
        db.execute("DELETE FROM entries WHERE id > 12")
        db.commit()
        db.close()
        self.host = Host(self.home)
        self.assertTrue(self.host.ok("verify")["ok"], "the chain alone cannot tell")
        self.assertEqual(cli(self.home, "verify").returncode, 0)
        v = self.verify(logs[-1])
        self.assertFalse(v["ok"], v)
        self.assertEqual(v["expected"]["reason"], "entries up to 20 were acknowledged, only 12 are here")
        self.assertNotIn("bad_id", v)  # the chain that is here holds
        out = self.cli_verify(logs[-1])
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn(b"entries up to 20 were acknowledged, only 12 are here", out.stdout)
        self.assertTrue(self.verify(logs[11])["ok"])  # the negative case: what is here still leads through its own

    def test_an_older_copy_restored_does_not_lead_through_the_head(self):
        for i in range(1, 11):
            self.capture(i)
        self.host.close()
        copy = self.home + "-copy"
        shutil.copytree(self.home, copy)
        self.host = Host(self.home)
        logs = [self.capture(i) for i in range(11, 21)]
        self.host.close()
        shutil.rmtree(self.home)
        shutil.copytree(copy, self.home)  # the older copy put back, and written on since
        shutil.rmtree(copy)
        self.host = Host(self.home)
        for i in range(100, 115):
            self.capture(i)
        self.assertTrue(self.host.ok("verify")["ok"])
        v = self.verify(logs[-1])  # entry 20 is there, but another one
        self.assertFalse(v["ok"], v)
        self.assertFalse(v["expected"]["holds"])
        self.assertIn("entries up to 20 were acknowledged, but this log does not lead through that head",
                      v["expected"]["reason"])
        out = self.cli_verify(logs[-1])
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn(b"does not lead through that head", out.stdout)

    def test_an_unrelated_head_is_refused(self):
        log = self.capture(1)
        other = {"entry": log["entry"], "head": hashlib.blake2b(b"another log", digest_size=32).hexdigest()}
        v = self.verify(other)
        self.assertFalse(v["ok"])
        self.assertFalse(v["expected"]["holds"])
        self.assertEqual(self.cli_verify(other).returncode, 1)
        # malformed expectations are refused, not judged
        for params in ({"at": 1}, {"head": log["head"]}, {"at": 1, "head": log["head"][:-2]},
                       {"at": 1, "head": "zz" + log["head"][2:]}, {"at": 0, "head": log["head"]}):
            self.assertEqual(self.host.call("verify", params)["error"]["code"], "bad_params", params)
        for arg in ("1", f"x:{log['head']}", f"1:{log['head'][:10]}", f"0:{log['head']}"):
            self.assertEqual(cli(self.home, "verify", "--expect", arg).returncode, 2, arg)


class WriteAheadFile(unittest.TestCase):
    """log.sqlite-wal removed or cut under a running host, then another host started: every
    acknowledged capture is found, or every program says the log is damaged. Never a shorter log
    that verifies."""

    def setUp(self):
        self.home = new_home()
        self.wal = os.path.join(self.home, "log.sqlite-wal")

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def all_found_or_said(self, h, acked):
        """What h (a host) or the CLI answers: every acknowledged entry, or a clear 'damaged'."""
        vault = h.ok("hello")["vault"] if h else json.loads(cli(self.home, "--json", "status").stdout)
        if vault.get("error") == "damaged":  # SQLite's index names frames that are gone: not even read
            if h:
                for method, params in (("capture", notice(0)), ("verify", None), ("list", None)):
                    self.assertEqual(h.call(method, params)["error"]["code"], "damaged")
            else:
                self.assertEqual(cli(self.home, "status").returncode, 2)
                self.assertEqual(cli(self.home, "verify").returncode, 2)
            return "damaged"
        found = vault.get("entries", 0)
        verify = h.ok("verify") if h else json.loads(cli(self.home, "--json", "verify").stdout)
        if found >= len(acked) and verify["ok"] and "damaged_at" not in vault:
            return "all found"
        self.assertFalse(verify["ok"], "a log short of acknowledged entries must not verify")
        self.assertTrue(vault.get("wal_lost"), vault)
        self.assertIn("write-ahead file", verify["reason"])
        if h:
            rep = h.call("capture", notice(0))
            self.assertEqual(rep["error"]["code"], "damaged", rep)
        else:
            self.assertEqual(cli(self.home, "status").returncode, 1)
        return "damaged"

    def run_case(self, damage, kill_writer):
        a = Host(self.home)
        acked = [a.ok("capture", notice(i))["id"] for i in range(1, 101)]
        damage()
        if kill_writer:
            kill(a)
        b = Host(self.home)
        outcomes = [self.all_found_or_said(b, acked)]
        if not kill_writer:
            rep = a.call("capture", notice(101))  # the first host goes on: stored, or refused clearly
            self.assertTrue("result" in rep or rep["error"]["code"] == "damaged", rep)
            if "result" in rep:
                acked.append(rep["result"]["id"])
            a.close()
        b.close()
        outcomes.append(self.all_found_or_said(None, acked))  # after both are gone
        return outcomes

    def test_removed_under_a_running_host(self):
        self.run_case(lambda: os.unlink(self.wal), kill_writer=False)

    def test_removed_then_the_host_killed(self):
        self.assertEqual(self.run_case(lambda: os.unlink(self.wal), kill_writer=True), ["damaged", "damaged"])

    def test_cut_under_a_running_host(self):
        self.run_case(lambda: os.truncate(self.wal, os.path.getsize(self.wal) // 2), kill_writer=False)

    def test_cut_then_the_host_killed(self):
        self.assertEqual(self.run_case(lambda: os.truncate(self.wal, os.path.getsize(self.wal) // 2),
                                       kill_writer=True), ["damaged", "damaged"])

    def test_an_intact_write_ahead_file_is_no_damage(self):
        a = Host(self.home)
        acked = [a.ok("capture", notice(i))["id"] for i in range(1, 21)]
        b = Host(self.home)
        self.assertEqual(self.all_found_or_said(b, acked), "all found")
        kill(a)  # killed with its commits in the write-ahead file: they are all there
        b.close()
        self.assertEqual(self.all_found_or_said(None, acked), "all found")
        self.assertFalse(os.path.exists(os.path.join(self.home, "log.sqlite-lost")))


if __name__ == "__main__":
    unittest.main()
