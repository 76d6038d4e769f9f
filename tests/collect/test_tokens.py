"""Anonymous membership tokens end to end (issue 13; docs/REPORT.md section
5), over real HTTP: the union's admin makes an invite code with the real
`bantrail-collect invite`, the person's real CLI asks the real `serve` for
blindly signed tokens with it and keeps them in the log, and each report it
sends spends one. The attacks: a copy of the log (a restored backup) spending
the same token again, a made-up token, an invite code used past its budget or
unknown, a union whose proofs speak of another key than the one it announced
(tagging a member), a report without a token where the union requires one.
Each is refused with a clear 4xx and stored nowhere, and the figures count
only reports that spent a valid token. Withdrawing a sent report from the
CLI (issue 13, item 2a) removes it from the figures."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from btcollect import FORGE, argv, query, run, scalar
from btproto import BUILD, cli, new_home

PASS = "union passphrase 1"
UNION = "test-union"
INSTAGRAM = ("We suspended your account @jane.doe.1987 because it doesn't follow our Community Standards on "
             "account integrity. You have 180 days left to disagree with this decision.")
X = "Your account, @jane.doe.1987, has been suspended. After careful review, we determined your account broke the X Rules."


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Union:
    """A real collector: keygen with a token policy, then serve on a free port."""

    def __init__(self, tokens):
        self.dir = tempfile.mkdtemp(prefix="bt-tokens-")
        self.port = free_port()
        out = run([self.dir, "keygen", "--kdf", "interactive", "--difficulty", "8", "--tokens", tokens,
                   "--id", UNION, "--submit-url", f"http://127.0.0.1:{self.port}/v1/reports"], passphrase=PASS)
        assert out.returncode == 0, out.stderr
        self.entry = json.loads(out.stdout)
        r, w = os.pipe()
        os.write(w, (PASS + "\n").encode())
        os.close(w)
        self.proc = subprocess.Popen(argv(self.dir, "serve", "--passphrase-fd", str(r), "--port",
                                          str(self.port)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     pass_fds=(r,))
        os.close(r)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on"), line + self.proc.stderr.read()

    def close(self):
        self.proc.terminate()
        self.proc.communicate(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)

    def invite(self, count):
        out = run([self.dir, "invite", "--count", str(count)])
        assert out.returncode == 0, out.stderr
        code = out.stdout.strip()
        assert len(code) == 32, code
        return code

    def post(self, path, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request("POST", path, body=body)
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            c.close()

    def forge(self, *args):
        out = subprocess.run([FORGE, "--pk", self.entry["public_key"], "--difficulty", "8", *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def figures(self):
        out = run([self.dir, "report", "--format", "json"])
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def rows(self):
        """How many rows each table of the store holds (read beside the running serve)."""
        return {t: scalar(self.dir, f"SELECT count(*) FROM {t}")
                for t in ("reports", "owners", "seen", "spent", "invites")}


class Tokens(unittest.TestCase):
    def setUp(self):
        self.unions, self.homes = [], []

    def tearDown(self):
        for u in self.unions:
            u.close()
        for h in self.homes:
            shutil.rmtree(h, ignore_errors=True)

    def union(self, tokens):
        u = Union(tokens)
        self.unions.append(u)
        return u

    def person(self, union):
        """A log with two cases (instagram, x) and union pinned."""
        home = new_home()
        self.homes.append(home)
        for text, url in ((INSTAGRAM, "https://www.instagram.com/accounts/suspended/"),
                          (X, "https://x.com/account/suspended")):
            self.assertEqual(cli(home, "capture", "--url", url, stdin=text.encode()).returncode, 0)
        path = os.path.join(home, "entry.json")
        with open(path, "w") as f:
            json.dump(union.entry, f)
        out = cli(home, "union", "import", path)
        self.assertEqual(out.returncode, 0, out.stderr)
        return home

    def copy_of(self, home):
        """A copy of the log's folder: a backup put back, with the same tokens in it."""
        other = tempfile.mkdtemp(prefix="bt-copy-")
        self.homes.append(other)
        shutil.rmtree(other)
        shutil.copytree(home, other)
        return other

    def tokens_left(self, home):
        out = cli(home, "--json", "union", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        return {u["id"]: u.get("tokens_left") for u in json.loads(out.stdout)["unions"]}[UNION]

    def ask_tokens(self, home, code, count):
        return cli(home, "union", "tokens", "--union", UNION, "--count", str(count), passphrase=code)

    def send(self, home, case):
        return cli(home, "report", "send", "--case", str(case), "--union", UNION, "--yes", "--now")

    def test_members_spend_tokens_and_the_figures_count_only_those(self):
        u = self.union("counted")
        a = self.person(u)
        code = u.invite(3)
        got = self.ask_tokens(a, code, 2)
        self.assertEqual(got.returncode, 0, got.stdout + got.stderr)
        self.assertIn(b"Kept 2 membership tokens", got.stdout)
        self.assertEqual(self.tokens_left(a), 2)
        # the code is worth 3: asking 2 more is refused, and spends nothing
        more = self.ask_tokens(a, code, 2)
        self.assertEqual(more.returncode, 1)
        self.assertIn(b"HTTP 403 bad_invite", more.stderr)
        self.assertEqual(self.tokens_left(a), 2)
        # an unknown code, and one that is not a code at all
        self.assertIn(b"HTTP 403 bad_invite", self.ask_tokens(a, "00" * 16, 1).stderr)
        self.assertIn(b"HTTP 400", self.ask_tokens(a, "not a code", 1).stderr)
        # tokens live only in the encrypted log: no t, N or invite code in clear on disk
        raw = b""
        for f in os.listdir(a):
            if f.startswith("log.sqlite"):
                with open(os.path.join(a, f), "rb") as fh:
                    raw += fh.read()
        self.assertNotIn(code.encode(), raw)
        self.assertNotIn(b'"tokens"', raw)

        backup = self.copy_of(a)  # taken while both tokens are unspent
        pv = cli(a, "report", "preview", "--case", "1", "--union", UNION)
        self.assertIn(b"spends one of your membership tokens", pv.stdout)
        sent = self.send(a, 1)
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        self.assertIn(b"Sent (HTTP 202)", sent.stdout)
        self.assertEqual(self.tokens_left(a), 1)
        self.assertEqual(u.figures()["total"], 1)
        before = u.rows()
        self.assertEqual((before["reports"], before["spent"]), (1, 1))

        # double spend: the backup's host spends the same token on its own report id
        again = self.send(backup, 1)
        self.assertEqual(again.returncode, 1, again.stdout + again.stderr)
        self.assertIn(b"HTTP 403 token_spent", again.stdout)
        self.assertEqual(u.rows(), before)  # stored nowhere: no report, owner, replay digest or spend

        # a made-up token (random t, a random point as N)
        status, reply = u.post("/v1/reports", u.forge("--token", "forged"))
        self.assertEqual((status, reply["error"]["code"]), (403, "bad_token"), reply)
        self.assertEqual(u.rows(), before)
        # a real token's N with another t
        status, reply = u.post("/v1/reports", u.forge("--token", "00" * 64))
        self.assertEqual((status, reply["error"]["code"]), (403, "bad_token"), reply)
        self.assertEqual(u.rows(), before)

        # without a token: kept, but the figures leave it out and say so
        status, reply = u.post("/v1/reports", u.forge("--platform", "tiktok"))
        self.assertEqual((status, reply["status"]), (202, "accepted"), reply)
        figures = u.figures()
        self.assertEqual((figures["total"], figures["by_platform"]), (1, {"instagram": 1}))
        self.assertEqual(figures["not_counted_without_token"], 1)

        # the second token: the x case counts
        self.assertEqual(self.send(a, 2).returncode, 0)
        self.assertEqual(self.tokens_left(a), 0)
        figures = u.figures()
        self.assertEqual((figures["total"], figures["by_platform"]), (2, {"instagram": 1, "x": 1}))

        # an update of case 1 carries its id's token again: accepted, still one report
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        ev = cli(a, "event", "add", "--case", "1", "--event", "appeal_submitted", "--at", at)
        self.assertEqual(ev.returncode, 0, ev.stderr)
        upd = self.send(a, 1)
        self.assertEqual(upd.returncode, 0, upd.stdout + upd.stderr)
        figures = u.figures()
        self.assertEqual((figures["total"], figures["appeals"]["submitted"]), (2, 1))

        # withdrawing a sent report from the CLI takes it out of the figures (item 2a)
        outbox = json.loads(cli(a, "--json", "report", "list").stdout)["reports"]
        x_id = [r["id"] for r in outbox if r["case"] == 2][0]
        wd = cli(a, "report", "withdraw", "--id", str(x_id))
        self.assertEqual(wd.returncode, 0, wd.stdout + wd.stderr)
        self.assertIn(b"withdrawn at the union", wd.stdout)
        figures = u.figures()
        self.assertEqual((figures["total"], figures["by_platform"]), (1, {"instagram": 1}))
        self.assertEqual(cli(a, "report", "withdraw", "--id", str(x_id)).returncode, 1)  # once only

    def test_a_union_that_requires_tokens_refuses_reports_without(self):
        u = self.union("required")
        a = self.person(u)
        # the host will not seal one: it has no token for this union
        out = self.send(a, 1)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn(b"accepts only reports with a membership token: none is left", out.stderr)
        self.assertEqual(json.loads(cli(a, "--json", "report", "list").stdout)["reports"], [])
        # made by hand, the collector refuses it and stores nothing
        status, reply = u.post("/v1/reports", u.forge())
        self.assertEqual((status, reply["error"]["code"]), (403, "token_required"), reply)
        self.assertEqual(u.rows()["reports"], 0)
        # with a token it goes through
        self.assertEqual(self.ask_tokens(a, u.invite(1), 1).returncode, 0)
        sent = self.send(a, 1)
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        self.assertEqual(u.figures()["total"], 1)

    def test_a_union_proving_another_key_than_it_announced_is_caught(self):
        """A union that would tag a member gives them tokens under a key of
        their own: here the member's pinned entry announces another token key
        than the one serve uses, which is what the member sees in that case.
        The DLEQ proofs do not hold and no token is kept."""
        u = self.union("counted")
        other = self.union("counted")
        entry = dict(u.entry, token_key=other.entry["token_key"])
        home = new_home()
        self.homes.append(home)
        path = os.path.join(home, "entry.json")
        with open(path, "w") as f:
            json.dump(entry, f)
        self.assertEqual(cli(home, "union", "import", path).returncode, 0)
        out = self.ask_tokens(home, u.invite(5), 5)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn(b"does not prove the token key", out.stderr)
        self.assertEqual(self.tokens_left(home), 0)

    def test_the_token_endpoint_refuses_bad_requests_and_keeps_serving(self):
        u = self.union("counted")
        code = u.invite(2)
        for body, status, errcode in (
                (b"not json", 400, "bad_params"),
                (json.dumps({"invite": code}).encode(), 400, "bad_params"),
                (json.dumps({"invite": code, "blinded": []}).encode(), 400, "bad_params"),
                (json.dumps({"invite": code, "blinded": ["AAAA"]}).encode(), 400, "bad_params"),
                (json.dumps({"invite": code[:30], "blinded": ["AA" * 21 + "A="]}).encode(), 400, "bad_params"),
                (json.dumps({"invite": code, "blinded": ["AA" * 21 + "A="], "x": 1}).encode(), 400, "bad_params")):
            st, reply = u.post("/v1/tokens", body)
            self.assertEqual((st, reply["error"]["code"]), (status, errcode), (body, reply))
        # the identity element is no blinded token: refused, and the budget is untouched
        st, reply = u.post("/v1/tokens", json.dumps({"invite": code, "blinded": ["A" * 43 + "="]}).encode())
        self.assertEqual(st, 400)
        self.assertEqual(query(u.dir, "SELECT remaining FROM invites"), [(2,)])
        # reports still go through
        status, reply = u.post("/v1/reports", u.forge())
        self.assertEqual(status, 202, reply)


if __name__ == "__main__":
    unittest.main()
