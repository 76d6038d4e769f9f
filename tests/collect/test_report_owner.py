"""Only a report's sender can update or withdraw it (issue 13, item 2), over
real HTTP with real logs: person A shares a case through their host and the
real bantrail-collect; a stranger with another log who learned A's report id
tries to replace it (through their own host with an edited preview, and with
a hand-made envelope) and to withdraw it. Both are refused and the union's
figures stay as A left them; A's own update and withdrawal are accepted."""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from btcollect import FORGE, run, serve
from btproto import Host, new_home
PASS = "union passphrase 1"
DIFFICULTY = 8
INSTAGRAM = {"url": "https://www.instagram.com/accounts/suspended/", "title": "Suspended", "lang": "en",
             "text": "We suspended your account on 3 March 2026. You have 180 days to disagree.",
             "observed_at": "2026-03-03T10:00:00Z"}
X = {"url": "https://x.com/account/suspended", "title": "Suspended", "lang": "en",
     "text": "Your account has been suspended for violating the X Rules.",
     "observed_at": "2026-03-04T08:00:00Z"}


class ReportOwner(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-owner-")
        out = run([self.dir, "keygen", "--kdf", "interactive", "--difficulty", str(DIFFICULTY)], passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.entry = json.loads(out.stdout)
        self.server, self.port = serve(self.dir, PASS)
        self.homes, self.hosts = [], []

    def tearDown(self):
        for h in self.hosts:
            if h.proc.poll() is None:
                h.close()
        for d in self.homes:
            shutil.rmtree(d, ignore_errors=True)
        self.server.terminate()
        self.server.wait(timeout=10)
        self.server.stdout.close()
        self.server.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- helpers ----

    def person(self, notice):
        """A log with one case from notice and the union pinned: (host, case id)."""
        home = new_home()
        self.homes.append(home)
        h = Host(home)
        self.hosts.append(h)
        h.ok("capture", notice)
        h.ok("union_import", {"entry": self.entry})
        return h, h.ok("cases")["cases"][0]["id"]

    def share(self, h, case, context=None):
        """Previews and queues the case's report: the queue_report result."""
        ask = {"case": case, "union": self.entry["id"]}
        if context:
            ask["context"] = context
        shown = h.ok("report_preview", ask)
        return h.ok("report_queue", dict(ask, confirm=True, json=shown["json"]))

    def post(self, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("POST", "/v1/reports", body=body)
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            c.close()

    def figures(self):
        out = run([self.dir, "report", "--format", "json"])
        self.assertEqual(out.returncode, 0, out.stderr)
        f = json.loads(out.stdout)
        return f["total"], f["by_platform"], {k: v for k, v in f["context"]["country"].items() if k != "not_given"}

    def forge(self, *args):
        out = subprocess.run([FORGE, "--pk", self.entry["public_key"], "--difficulty", str(DIFFICULTY), *args],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    # ---- the attack and the sender ----

    def test_a_stranger_cannot_replace_a_report_through_their_own_host(self):
        a, case_a = self.person(INSTAGRAM)
        sent = self.share(a, case_a)
        status, reply = self.post(sent["wire"])
        self.assertEqual(status, 202, reply)
        rid = sent["report_id"]
        before = self.figures()
        self.assertEqual(before, (1, {"instagram": 1}, {}))

        # The stranger previews their own case and edits A's report id into the preview.
        b, case_b = self.person(X)
        ask = {"case": case_b, "union": self.entry["id"]}
        shown = b.ok("report_preview", ask)
        edited = shown["json"].replace(shown["report"]["report_id"], rid)
        self.assertNotEqual(edited, shown["json"])
        rep = b.call("report_queue", dict(ask, confirm=True, json=edited))
        if "result" in rep:  # a host that seals a foreign id: the collector must still refuse it
            status, reply = self.post(rep["result"]["wire"])
            self.assertEqual((status, (reply.get("error") or {}).get("code")), (403, "not_owner"),
                             f"the stranger's report was {reply}; the figures became {self.figures()}")
        self.assertEqual(rep.get("error", {}).get("code"), "bad_params", rep)
        self.assertEqual(self.figures(), before, "the stranger changed the union's figures")

    def test_only_the_sender_updates_and_withdraws(self):
        a, case_a = self.person(INSTAGRAM)
        sent = self.share(a, case_a)
        self.assertEqual(self.post(sent["wire"])[0], 202)
        rid = sent["report_id"]
        before = self.figures()
        # the report's signing seed stays inside the log: no answer carries it
        for answer in (a.ok("get", {"id": sent["id"]})["record"], a.ok("report_get", {"id": sent["id"]}),
                       a.ok("report_list")):
            self.assertNotIn("seed", json.dumps(answer))
            self.assertEqual(a.ok("get", {"id": sent["id"]})["record"]["type"], "report")

        # A client of the stranger's own making: A's id, the stranger's report and key.
        status, reply = self.post(self.forge("--id", rid, "--platform", "x"))
        self.assertEqual((status, reply["error"]["code"]), (403, "not_owner"), reply)
        self.assertEqual(self.figures(), before)

        # A's update (the person adds a country) is accepted and replaces the report.
        update = self.share(a, case_a, {"country": "DE"})
        self.assertEqual(update["report_id"], rid)
        status, reply = self.post(update["wire"])
        self.assertEqual(status, 202, reply)
        self.assertEqual(reply, {"status": "accepted", "report_id": rid, "updated": True})
        updated = self.figures()
        self.assertEqual(updated, (1, {"instagram": 1}, {"DE": 1}))

        # The stranger's withdrawal is refused, A's is accepted.
        status, reply = self.post(self.forge("--id", rid, "--withdraw"))
        self.assertEqual((status, reply["error"]["code"]), (403, "not_owner"), reply)
        self.assertEqual(self.figures(), updated)
        w = a.ok("report_withdrawal", {"id": update["id"]})
        self.assertEqual(w["report_id"], rid)
        status, reply = self.post(w["wire"])
        self.assertEqual(status, 202, reply)
        self.assertEqual(reply, {"status": "withdrawn", "report_id": rid, "updated": True})
        self.assertEqual(self.figures(), (0, {}, {}))

        # Withdrawn stays the sender's: the stranger cannot take the id over afterwards.
        status, reply = self.post(self.forge("--id", rid, "--platform", "x"))
        self.assertEqual((status, reply["error"]["code"]), (403, "not_owner"), reply)
        # A withdrawal of an id the collector never had is refused and stores nothing.
        status, reply = self.post(self.forge("--id", os.urandom(16).hex(), "--withdraw"))
        self.assertEqual((status, reply["error"]["code"]), (404, "not_found"), reply)
        self.assertEqual(self.figures(), (0, {}, {}))


if __name__ == "__main__":
    unittest.main()
