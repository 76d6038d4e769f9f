"""Sharing with a union end to end: the person's CLI seals a case's report and
sends it over real HTTP to a real bantrail-collect on loopback, whose figures
then count it; a failed send stays in the outbox and is retried."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from btproto import BUILD, cli, new_home

COLLECT = os.path.join(BUILD, "bantrail-collect")
UNION_PASS = "union passphrase"
NOTICE = ("We suspended your account @jane.doe.1987 because it doesn't follow our Community Standards on "
          "account integrity. You have 180 days left to disagree with this decision.")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collect(d, *args, stdin=None):
    """Runs bantrail-collect; "PASSFD" in args becomes a descriptor holding the union's passphrase."""
    r, w = os.pipe()
    os.write(w, (UNION_PASS + "\n").encode())
    os.close(w)
    try:
        args = [str(r) if a == "PASSFD" else a for a in args]
        return subprocess.run([COLLECT, "--dir", d, *args], input=stdin, capture_output=True, text=True,
                              pass_fds=(r,), timeout=120)
    finally:
        os.close(r)


class Share(unittest.TestCase):
    def setUp(self):
        self.home = new_home()
        self.union_dir = tempfile.mkdtemp(prefix="bt-union-")
        self.port = free_port()
        out = collect(self.union_dir, "keygen", "--passphrase-fd", "PASSFD", "--kdf", "interactive", "--id", "test-union",
                      "--name", "Test union", "--submit-url", f"http://127.0.0.1:{self.port}/v1/reports",
                      "--difficulty", "8")
        if out.returncode != 0:
            raise AssertionError(out.stderr)
        self.server = None
        for text in (NOTICE, "Your account, @jane.doe.1987, has been suspended for violating the X Rules."):
            url = "https://www.instagram.com/accounts/suspended/" if text is NOTICE else "https://x.com/account/suspended"
            self.assertEqual(cli(self.home, "capture", "--url", url, stdin=text.encode()).returncode, 0)

    def tearDown(self):
        self.stop_server()
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.union_dir, ignore_errors=True)

    def start_server(self):
        r, w = os.pipe()
        os.write(w, (UNION_PASS + "\n").encode())
        os.close(w)
        self.server = subprocess.Popen([COLLECT, "--dir", self.union_dir, "serve", "--port", str(self.port),
                                        "--passphrase-fd", str(r)], pass_fds=(r,), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        os.close(r)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("the collector did not start")

    def stop_server(self):
        if self.server is not None:
            self.server.terminate()
            self.server.communicate(timeout=30)
            self.server = None

    def counted(self):
        out = collect(self.union_dir, "report", "--format", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def test_a_confirmed_report_reaches_the_union_and_is_counted(self):
        entry = os.path.join(self.union_dir, "union.json")
        self.assertEqual(cli(self.home, "union", "import", entry).returncode, 0)
        unions = json.loads(cli(self.home, "--json", "union", "list").stdout)["unions"]
        self.assertEqual(sorted(u["id"] for u in unions), ["demo", "test-union"])
        pv = cli(self.home, "report", "preview", "--case", "1", "--union", "test-union", "--country", "FR")
        self.assertEqual(pv.returncode, 0, pv.stderr)
        self.assertIn(b"Platform: instagram", pv.stdout)
        self.assertIn(b'"country":"FR"', pv.stdout)
        self.assertNotIn(b"jane.doe", pv.stdout)
        self.start_server()
        sent = cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--country", "FR", "--yes")
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        self.assertIn(b"Sent (HTTP 202)", sent.stdout)
        outbox = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"]
        self.assertEqual([(r["case"], r["state"]) for r in outbox], [(1, "sent")])
        self.stop_server()
        figures = self.counted()
        self.assertEqual((figures["total"], figures["by_platform"]), (1, {"instagram": 1}))
        self.assertNotIn("jane", json.dumps(figures))

    def test_without_confirmation_nothing_is_sent(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        out = cli(self.home, "report", "send", "--case", "1", "--union", "test-union")  # no --yes, no terminal
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"Nothing sent", out.stdout)
        self.assertEqual(json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"], [])

    def test_a_failed_send_stays_queued_and_is_retried(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        out = cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--yes")  # nobody listens
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"Not sent: network", out.stdout)
        outbox = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"]
        self.assertEqual(outbox[0]["state"], "failed")
        self.start_server()
        out = cli(self.home, "report", "send", "--id", str(outbox[0]["id"]))
        self.assertEqual(out.returncode, 0, out.stdout)
        outbox = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"]
        self.assertEqual(outbox[0]["state"], "sent")

    def test_a_saved_report_is_ingested_by_hand(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        # queue without a server: it fails, but the sealed report can be saved and uploaded by hand
        cli(self.home, "report", "send", "--case", "2", "--union", "test-union", "--yes")
        rid = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"][0]["id"]
        path = os.path.join(self.home, "report.txt")
        self.assertEqual(cli(self.home, "report", "save", "--id", str(rid), "-o", path).returncode, 0)
        self.assertEqual(cli(self.home, "report", "save", "--id", str(rid), "-o", path).returncode, 2)  # no overwrite
        out = collect(self.union_dir, "ingest", "--passphrase-fd", "PASSFD", path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.counted()["by_platform"], {"x": 1})

    def test_a_withdrawn_report_is_not_sent(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--yes")
        rid = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"][0]["id"]
        self.assertEqual(cli(self.home, "report", "withdraw", "--id", str(rid)).returncode, 0)
        self.start_server()
        self.assertEqual(cli(self.home, "report", "send", "--id", str(rid)).returncode, 1)
        self.assertEqual(json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"][0]["state"],
                         "withdrawn")


if __name__ == "__main__":
    unittest.main()
