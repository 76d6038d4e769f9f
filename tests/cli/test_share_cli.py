"""Sharing with a union end to end: the person's CLI seals a case's report and
sends it over real HTTP to a real bantrail-collect on loopback, whose figures
then count it; a failed send stays in the outbox and is retried. Each answer
the collector can give (202, 409, 429, 503, 400 insufficient_work) lands in
the outbox state the sending policy says (docs/REPORT.md "Sending")."""
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
        for text in (NOTICE, "Your account, @jane.doe.1987, has been suspended. After careful review, we determined your account broke the X Rules."):
            url = "https://www.instagram.com/accounts/suspended/" if text is NOTICE else "https://x.com/account/suspended"
            self.assertEqual(cli(self.home, "capture", "--url", url, stdin=text.encode()).returncode, 0)

    def tearDown(self):
        self.stop_server()
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.union_dir, ignore_errors=True)

    def start_server(self, *flags):
        r, w = os.pipe()
        os.write(w, (UNION_PASS + "\n").encode())
        os.close(w)
        self.server = subprocess.Popen([COLLECT, "--dir", self.union_dir, "serve", "--port", str(self.port),
                                        "--passphrase-fd", str(r), *flags], pass_fds=(r,), stdout=subprocess.PIPE,
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
        sent = cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--country", "FR", "--yes",
                   "--now")
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
        out = cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--yes", "--now")  # nobody listens
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
        cli(self.home, "report", "send", "--case", "2", "--union", "test-union", "--yes", "--now")
        rid = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"][0]["id"]
        path = os.path.join(self.home, "report.txt")
        self.assertEqual(cli(self.home, "report", "save", "--id", str(rid), "-o", path).returncode, 0)
        self.assertEqual(cli(self.home, "report", "save", "--id", str(rid), "-o", path).returncode, 2)  # no overwrite
        out = collect(self.union_dir, "ingest", "--passphrase-fd", "PASSFD", path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.counted()["by_platform"], {"x": 1})

    def test_a_withdrawn_report_is_not_sent(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--yes", "--now")
        rid = json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"][0]["id"]
        self.assertEqual(cli(self.home, "report", "withdraw", "--id", str(rid)).returncode, 0)
        self.start_server()
        self.assertEqual(cli(self.home, "report", "send", "--id", str(rid)).returncode, 1)
        self.assertEqual(json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"][0]["state"],
                         "withdrawn")

    def test_a_sent_report_is_withdrawn_at_the_union_only_when_it_answers(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        self.start_server()
        self.assertEqual(cli(self.home, "report", "send", "--case", "1", "--union", "test-union", "--yes",
                             "--now").returncode, 0)
        self.assertEqual(self.counted()["total"], 1)
        rid = self.outbox()[0]["id"]
        self.stop_server()
        out = cli(self.home, "report", "withdraw", "--id", str(rid))  # nobody listens: it stays sent
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn(b"did not take the withdrawal", out.stderr)
        self.assertEqual(self.outbox()[0]["state"], "sent")
        self.start_server()
        out = cli(self.home, "report", "withdraw", "--id", str(rid))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn(b"withdrawn at the union", out.stdout)
        self.assertEqual((self.outbox()[0]["state"], self.counted()["total"]), ("withdrawn", 0))

    # ---- the sending policy (docs/REPORT.md "Sending"), one answer at a time ----

    def outbox(self):
        return json.loads(cli(self.home, "--json", "report", "list").stdout)["reports"]

    def send_case(self, case, *more):
        out = cli(self.home, "--json", "report", "send", "--case", str(case), "--union", "test-union", "--yes", "--now",
                  *more)
        return out.returncode, json.loads(out.stdout.decode().strip().splitlines()[-1])

    def test_409_replayed_is_sent(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        self.start_server()
        self.assertEqual(self.send_case(1)[0], 0)
        rid = self.outbox()[0]["id"]
        # the same sealed bytes again (as when an answer was lost): the union already has them
        out = cli(self.home, "--json", "report", "send", "--id", str(rid))
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual({k: json.loads(out.stdout)[k] for k in ("state", "detail", "outcome", "status", "code")},
                         {"state": "sent", "detail": "http", "outcome": "sent", "status": 409, "code": "replayed"})
        item = self.outbox()[0]
        self.assertEqual((item["state"], item["attempts"]), ("sent", 2))
        self.assertEqual(item["detail"], "HTTP 409 replayed: the union already had it")
        self.assertEqual(self.counted()["total"], 1)

    def test_429_with_retry_after_is_tried_again_later(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        self.start_server("--reports-per-minute", "1", "--burst", "1")
        self.assertEqual(self.send_case(1)[0], 0)
        rc, res = self.send_case(2)
        self.assertEqual((rc, res["outcome"], res["status"], res["code"]), (1, "retry", 429, "too_many_reports"))
        self.assertGreaterEqual(res["retry_in"], 48)  # the backoff's first wait, or the Retry-After if longer
        item = self.outbox()[1]
        self.assertEqual(item["state"], "failed")
        self.assertRegex(item["detail"], r"^HTTP 429 too_many_reports: too many reports from this address; "
                                         r"try 1, try again in \d+ s$")
        text = cli(self.home, "report", "send", "--id", str(item["id"]))
        self.assertIn(b"tries again (not before", text.stdout)
        self.assertEqual(self.outbox()[1]["attempts"], 2)

    def test_503_busy_is_tried_again_later(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        self.start_server("--max-connections", "1", "--idle-timeout", "30", "--request-timeout", "30")
        hold = socket.create_connection(("127.0.0.1", self.port))  # the one connection, kept open
        try:
            hold.sendall(b"POST /v1/reports HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.3)
            rc, res = self.send_case(1)
        finally:
            hold.close()
        self.assertEqual((rc, res["outcome"], res["status"], res["code"]), (1, "retry", 503, "busy"))
        self.assertGreaterEqual(res["retry_in"], 48)  # Retry-After 5 is shorter than the backoff's first wait
        self.assertRegex(self.outbox()[0]["detail"], r"^HTTP 503 busy: the union is busy; try 1, try again in \d+ s$")
        time.sleep(0.5)
        self.assertEqual(cli(self.home, "report", "send", "--id", str(self.outbox()[0]["id"])).returncode, 0)
        self.assertEqual(self.outbox()[0]["state"], "sent")

    def test_400_insufficient_work_fails_for_good_and_says_the_difficulty(self):
        entry = os.path.join(self.union_dir, "union.json")
        cli(self.home, "union", "import", entry)
        with open(entry) as f:
            raised = json.load(f)
        raised["pow_difficulty"] = 24  # raised after the person imported the entry (8-bit work meets 24 bits once in 65,536)
        with open(entry, "w") as f:
            json.dump(raised, f)
        self.start_server()
        rc, res = self.send_case(1)
        self.assertEqual((rc, res["outcome"], res["status"], res["code"]), (1, "failed", 400, "insufficient_work"))
        self.assertIsNone(res["retry_in"])
        item = self.outbox()[0]
        self.assertEqual(item["state"], "failed")
        self.assertIn("HTTP 400 insufficient_work (difficulty 24)", item["detail"])
        self.assertIn("import its entry again", item["detail"])
        self.stop_server()
        self.assertEqual(self.counted()["total"], 0)

    def test_a_first_send_waits_a_random_delay_unless_now(self):
        cli(self.home, "union", "import", os.path.join(self.union_dir, "union.json"))
        self.start_server()
        env = dict(os.environ, BANTRAIL_HOME=self.home)
        p = subprocess.Popen([os.path.join(BUILD, "bantrail"), "report", "send", "--case", "1", "--union",
                              "test-union", "--yes"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(2)
            self.assertIsNone(p.poll(), "it waits at least 30 s")
        finally:
            p.terminate()
            _, err = p.communicate(timeout=30)
        self.assertRegex(err.decode(), r"sending report \d+ in (\d+) s \(a random delay")
        wait = int(__import__("re").search(rb"in (\d+) s", err).group(1))
        self.assertTrue(30 <= wait <= 300, wait)
        self.assertEqual([r["state"] for r in self.outbox()], ["queued"])  # interrupted: still in the outbox
        self.stop_server()
        self.assertEqual(self.counted()["total"], 0)


if __name__ == "__main__":
    unittest.main()
