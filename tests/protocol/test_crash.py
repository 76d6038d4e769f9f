"""Crash safety: kill -9 the host at random moments while it captures.

Afterwards PRAGMA integrity_check passes, the chain verifies, and every
capture the host acknowledged is there with its text."""
import os
import random
import shutil
import signal
import sqlite3
import time
import unittest

from btproto import Host, cli, frame, new_home

ROUNDS = int(os.environ.get("BT_CRASH_ROUNDS", "200"))


class KillNine(unittest.TestCase):
    def test_killed_mid_write_loses_no_acknowledged_capture(self):
        home = new_home()
        rnd = random.Random(int(os.environ.get("BT_SEED", "0")) or None)
        acked = {}  # id -> text
        killed_with_pending = 0
        try:
            for r in range(ROUNDS):
                h = Host(home)
                os.set_blocking(h.proc.stdout.fileno(), True)
                batch = rnd.randint(1, 40)
                texts = [f"Your account has been suspended (round {r}, notice {i}). " + "x" * rnd.randint(0, 4000)
                         for i in range(batch)]
                # pipeline the whole batch so the host is busy writing when it dies
                h.send_raw(b"".join(frame({"id": i, "method": "capture",
                                           "params": {"url": "https://www.instagram.com/accounts/suspended/",
                                                      "text": t}}) for i, t in enumerate(texts)))
                time.sleep(rnd.uniform(0.0, 0.008))
                h.proc.send_signal(signal.SIGKILL)
                h.proc.wait()
                # what the host wrote before dying is still in the pipe: those are acknowledged
                got = 0
                while True:
                    rep = h.read()
                    if rep is None:
                        break
                    self.assertIn("result", rep, rep)
                    acked[rep["result"]["id"]] = texts[rep["id"]]
                    got += 1
                if got < batch:
                    killed_with_pending += 1
                for f in (h.proc.stdin, h.proc.stdout, h.proc.stderr):
                    try:
                        f.close()
                    except BrokenPipeError:
                        pass
            print(f"{ROUNDS} kills, {killed_with_pending} with captures in flight, {len(acked)} acknowledged")
            self.assertGreater(killed_with_pending, ROUNDS // 4)  # the kills really hit mid-work

            db = sqlite3.connect(os.path.join(home, "log.sqlite"))
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            stored = db.execute("SELECT count(*) FROM entries").fetchone()[0]
            db.close()
            self.assertGreaterEqual(stored, len(acked))
            out = cli(home, "verify")
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            # every acknowledged capture reads back with its own text
            h = Host(home)
            for rid, text in acked.items():
                self.assertEqual(h.ok("get", {"id": rid})["record"]["text"], text)
            h.close()
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
