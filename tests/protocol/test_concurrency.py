"""Several writers at once: four hosts (one per browser profile) and the CLI.

At least 1,000 captures; afterwards the chain holds, nothing is lost, and no
caller ever saw a busy error."""
import json
import os
import shutil
import threading
import unittest

from btproto import Host, cli, new_home

HOSTS, PER_HOST, CLI_RUNS = 4, 230, 100


class Writers(unittest.TestCase):
    def test_four_hosts_and_the_cli_write_at_once(self):
        home = new_home()
        errors, texts = [], set()
        lock = threading.Lock()
        Host(home).close()  # create the log first, as the installed host would

        def host_worker(n):
            h = Host(home)
            try:
                for i in range(PER_HOST):
                    t = f"host {n} capture {i}"
                    rep = h.call("capture", {"url": "https://x.com/account/suspended", "text": t, "manual": True})
                    with lock:
                        if "error" in rep:
                            errors.append(rep["error"])
                        texts.add(t)
            finally:
                h.close()

        def cli_worker(n):
            for i in range(CLI_RUNS // 2):
                t = f"cli {n} capture {i}"
                out = cli(home, "capture", "--manual", "--url", "https://www.facebook.com/checkpoint/", stdin=t.encode())
                with lock:
                    if out.returncode != 0:
                        errors.append(out.stderr.decode())
                    texts.add(t)

        threads = [threading.Thread(target=host_worker, args=(n,)) for n in range(HOSTS)]
        threads += [threading.Thread(target=cli_worker, args=(n,)) for n in range(2)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            total = HOSTS * PER_HOST + CLI_RUNS
            self.assertGreaterEqual(total, 1000)
            v = json.loads(cli(home, "--json", "verify").stdout)
            self.assertTrue(v["ok"], v)
            self.assertEqual(v["checked"], total)
            h = Host(home)
            seen, after = set(), 0
            while after is not None:
                page = h.ok("list", {"after": after, "limit": 200})
                for e in page["entries"]:
                    seen.add(h.ok("get", {"id": e["id"]})["record"]["text"])
                after = page["next"]
            sessions = h.ok("stats")["sessions"]
            h.close()
            self.assertEqual(seen, texts)
            self.assertEqual(sessions, HOSTS + CLI_RUNS)  # one sealed session key per writer
            print(f"{total} captures from {HOSTS} hosts and {CLI_RUNS} CLI runs: chain holds, none lost")
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
