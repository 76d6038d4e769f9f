"""The real bantrail-collect: keygen, the HTTP receiver on loopback, ingest,
report and export, as docs/REPORT.md says. Every hostile body gets a 4xx
and leaves the store as it was."""
import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from btcollect import COLLECT, FORGE, STORE, columns, dump, query, run, serve

PASS = "union passphrase 1"
DIFFICULTY = 8


def leading_zero_bits(h):
    z = 0
    for b in h:
        if b == 0:
            z += 8
            continue
        z += 8 - b.bit_length()
        break
    return z


class Collector(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bt-collect-")
        out = run([cls.dir, "keygen", "--kdf", "interactive", "--difficulty", str(DIFFICULTY)], passphrase=PASS)
        assert out.returncode == 0, out.stderr
        cls.entry = json.loads(out.stdout)
        cls.pk = cls.entry["public_key"]
        cls.server, cls.port = serve(cls.dir, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # ---- helpers ----

    def forge(self, *args, pk=None, difficulty=DIFFICULTY, plain=None):
        out = subprocess.run([FORGE, "--pk", pk or self.pk, "--difficulty", str(difficulty), *args],
                             input=plain.encode() if plain is not None else None, capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def post(self, body, path="/v1/reports", method="POST", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data else None), dict(r.getheaders())
        finally:
            c.close()

    def counts(self):
        return query(self.dir, "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM seen)")[0]

    def report(self):
        out = run([self.dir, "report", "--format", "json"])
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def refused(self, body, status, code, headers=None):
        before = self.counts()
        got, reply, _ = self.post(body, headers=headers)
        self.assertEqual(got, status, reply)
        self.assertEqual(reply["error"]["code"], code, reply)
        self.assertEqual(self.counts(), before, "a refused body changed the store")

    # ---- the honest path ----

    def test_a_valid_report_is_accepted_and_counted(self):
        before = self.report()
        rid = os.urandom(16).hex()
        status, reply, headers = self.post(self.forge("--id", rid, "--platform", "linkedin"))
        self.assertEqual(status, 202, reply)
        self.assertEqual(reply, {"status": "accepted", "report_id": rid, "updated": False})
        self.assertEqual(headers.get("Content-Type"), "application/json")
        after = self.report()
        self.assertEqual(after["total"], before["total"] + 1)
        self.assertEqual(after["by_platform"].get("linkedin", 0), before["by_platform"].get("linkedin", 0) + 1)
        self.assertEqual(after["appeals"]["answered_within_10_minutes"],
                         before["appeals"]["answered_within_10_minutes"] + 1)

    def test_a_report_sealed_by_the_client_api_is_accepted(self):
        rid = os.urandom(16).hex()
        status, reply, _ = self.post(self.forge("--id", rid, "--client-api", "--platform", "threads"))
        self.assertEqual(status, 202, reply)
        self.assertEqual(reply["report_id"], rid)

    def test_the_same_report_id_updates_its_case_latest_wins(self):
        rid, seed = os.urandom(16).hex(), os.urandom(32).hex()
        before = self.report()
        self.assertEqual(self.post(self.forge("--id", rid, "--platform", "reddit", "--seed", seed))[0], 202)
        # the same id under another report key is not an update: refused, nothing changes
        self.refused(self.forge("--id", rid, "--platform", "twitch"), 403, "not_owner")
        status, reply, _ = self.post(self.forge("--id", rid, "--platform", "pinterest", "--seed", seed))
        self.assertEqual(status, 202)
        self.assertTrue(reply["updated"])
        after = self.report()
        self.assertEqual(after["total"], before["total"] + 1)
        self.assertEqual(after["by_platform"].get("pinterest", 0), before["by_platform"].get("pinterest", 0) + 1)
        self.assertEqual(after["by_platform"].get("reddit", 0), before["by_platform"].get("reddit", 0))

    # ---- hostile bodies ----

    def test_replayed_bytes_are_refused(self):
        body = self.forge()
        self.assertEqual(self.post(body)[0], 202)
        self.refused(body, 409, "replayed")

    def test_a_report_without_its_key_or_signature_is_refused(self):
        self.refused(self.forge("--raw"), 422, "bad_report")
        self.refused(self.forge("--bad-signature"), 422, "bad_report")

    def test_not_base64_is_refused(self):
        self.refused(b"this is not base64!", 400, "bad_envelope")
        self.refused(b"", 400, "bad_envelope")
        self.refused(self.forge() + b"\n", 400, "bad_envelope")

    def test_truncated_is_refused(self):
        body = self.forge()
        self.refused(body[:-4], 400, "bad_envelope")
        self.refused(body[:-1], 400, "bad_envelope")
        self.refused(body[:len(body) // 2], 400, "bad_envelope")

    def test_another_key_is_refused(self):
        other = base64.b64encode(os.urandom(32)).decode()
        self.refused(self.forge(pk=other), 400, "wrong_key")

    def test_a_box_that_does_not_open_is_refused(self):
        self.refused(self.forge("--flip"), 400, "corrupt")

    def test_lying_padding_is_refused(self):
        self.refused(self.forge("--blocks", "2"), 400, "bad_envelope")
        self.refused(self.forge("--break-padding"), 400, "bad_envelope")

    def test_oversize_is_refused(self):
        self.refused(b"A" * 9000, 413, "frame_too_large")
        self.refused(self.forge("--blocks", "5"), 413, "frame_too_large")  # fits the body cap, not a report

    def test_oversize_without_a_length_is_refused(self):
        def chunks():
            for _ in range(10):
                yield b"A" * 1000
        before = self.counts()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", "/v1/reports", body=chunks(), encode_chunked=True,
                  headers={"Transfer-Encoding": "chunked"})
        r = c.getresponse()
        self.assertEqual(r.status, 413)
        self.assertEqual(json.loads(r.read())["error"]["code"], "frame_too_large")
        c.close()
        self.assertEqual(self.counts(), before)

    def test_invalid_schema_is_refused(self):
        template = ('{"v":1,"report_id":"RID","client":"0.1.0","platform":"x","kind":"warning",'
                    '"stated":{"keywords":[]},"week":"2026-W10","duration":"not_stated",'
                    '"appeal":{"offered":"no","submitted":false}}')

        def sealed(text):
            rid = os.urandom(16).hex()
            return self.forge("--id", rid, "--plain", plain=text.replace("RID", rid))
        self.assertEqual(self.post(sealed(template))[0], 202)  # the control: valid as written
        for bad in (template.replace('"x"', '"myspace"'),
                    template[:-1] + ',"handle":"@someone"}',
                    template.replace('"2026-W10"', '"2026-03-03T10:00:00Z"'),
                    template.replace(',"stated"', ' ,"stated"'),     # not canonical
                    template.replace('{"v":1,', '{"v":1,"v":1,'),    # a repeated member
                    template.replace('"submitted":false', '"submitted":false,"outcome":"rejected"'),
                    "[]"):
            self.refused(sealed(bad), 422, "bad_report")

    def test_both_schemas_are_received_each_with_its_own_lists_and_merge_in_the_figures(self):
        template = ('{"v":V,"report_id":"RID","client":"0.2.0","platform":"x","kind":"warning",'
                    '"stated":{STATED},"week":"2026-W10","duration":"not_stated",'
                    '"appeal":{"offered":"no","submitted":false}}')

        def sealed(v, stated):
            rid = os.urandom(16).hex()
            text = template.replace("V", str(v), 1).replace("RID", rid).replace("STATED", stated)
            return self.forge("--id", rid, "--plain", plain=text)
        before = self.report()
        cat, kw = before["by_stated_category"], before["by_stated_keyword"]
        # schema 1 and schema 2 names of the same things, each in its own schema
        self.assertEqual(self.post(sealed(1, '"category":"STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",'
                                             '"keywords":["KEYWORD_DISINFORMATION","KEYWORD_MISINFORMATION"]'))[0], 202)
        self.assertEqual(self.post(sealed(2, '"category":"STATEMENT_CATEGORY_OTHER_VIOLATION_TC",'
                                             '"keywords":["KEYWORD_MISINFORMATION_DISINFORMATION",'
                                             '"KEYWORD_VIOLATION_NATIONAL_LAW"]'))[0], 202)
        # each schema refuses the other's own values, and what neither knows
        for v, stated in ((2, '"category":"STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE","keywords":[]'),
                          (2, '"keywords":["KEYWORD_MISINFORMATION"]'),
                          (1, '"category":"STATEMENT_CATEGORY_CYBER_VIOLENCE","keywords":[]'),
                          (1, '"keywords":["KEYWORD_VIOLATION_NATIONAL_LAW"]'),
                          (2, '"keywords":["KEYWORD_NOT_A_KEYWORD"]'),
                          (3, '"keywords":[]'),
                          (2, '"keywords":["KEYWORD_VIOLATION_NATIONAL_LAW","KEYWORD_MISINFORMATION_DISINFORMATION"]')):
            self.refused(sealed(v, stated), 422, "bad_report")  # the last: keywords out of table order
        after = self.report()
        self.assertEqual(after["schema"], 2)
        got_cat, got_kw = after["by_stated_category"], after["by_stated_keyword"]
        self.assertEqual(got_cat.get("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", 0),
                         cat.get("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", 0) + 2)
        self.assertEqual(got_kw.get("KEYWORD_MISINFORMATION_DISINFORMATION", 0),
                         kw.get("KEYWORD_MISINFORMATION_DISINFORMATION", 0) + 2)  # one a report, however many it merges
        self.assertEqual(got_kw.get("KEYWORD_VIOLATION_NATIONAL_LAW", 0), kw.get("KEYWORD_VIOLATION_NATIONAL_LAW", 0) + 1)
        for old in ("STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",):
            self.assertNotIn(old, got_cat)
        for old in ("KEYWORD_DISINFORMATION", "KEYWORD_MISINFORMATION"):
            self.assertNotIn(old, got_kw)

    def test_a_report_id_unlike_the_envelope_is_refused(self):
        self.refused(self.forge("--envelope-id", os.urandom(16).hex()), 422, "bad_report")

    def test_missing_proof_of_work_is_refused(self):
        for _ in range(64):
            body = self.forge(difficulty=0)
            if leading_zero_bits(hashlib.blake2b(base64.b64decode(body), digest_size=32).digest()) < DIFFICULTY:
                break
        self.refused(body, 400, "insufficient_work")
        _, reply, _ = self.post(body)
        self.assertEqual(reply["error"]["difficulty"], DIFFICULTY)  # told what the collector demands

    def test_keygen_announces_the_default_difficulty(self):
        d = tempfile.mkdtemp(prefix="bt-collect-")
        try:
            out = run([d, "keygen", "--kdf", "interactive"], passphrase=PASS)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["pow_difficulty"], 20)  # BT_REPORT_POW_DEFAULT
            help_text = run([d, "keygen", "--help"]).stdout
            self.assertIn("difficulty 20", help_text)
            out = run([d + "2", "keygen", "--difficulty", "25"], passphrase=PASS)
            self.assertEqual(out.returncode, 2)
            self.assertIn("--difficulty: 0-24", out.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_other_paths_and_methods(self):
        status, reply, headers = self.post(None, method="GET")
        self.assertEqual(status, 405)
        self.assertIn("POST", headers.get("Allow", ""))
        status, reply, _ = self.post(self.forge(), path="/v1/report")
        self.assertEqual(status, 404)
        self.assertEqual(reply["error"]["code"], "not_found")

    # ---- the rest of the program ----

    def test_ingest_files_saved_by_hand(self):
        d = tempfile.mkdtemp(prefix="bt-ingest-")
        try:
            good, bad = os.path.join(d, "good.txt"), os.path.join(d, "bad.txt")
            with open(good, "wb") as f:
                f.write(self.forge("--platform", "bluesky") + b"\n")
            with open(bad, "wb") as f:
                f.write(self.forge("--flip"))
            before = self.report()
            out = run([self.dir, "ingest", good], passphrase=PASS)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("accepted 1", out.stdout)
            self.assertEqual(self.report()["by_platform"].get("bluesky", 0),
                             before["by_platform"].get("bluesky", 0) + 1)
            out = run([self.dir, "ingest", good, bad], passphrase=PASS)
            self.assertEqual(out.returncode, 1)
            self.assertIn("replayed", out.stderr)
            self.assertIn("corrupt", out.stderr)
            out = run([self.dir, "ingest", good], passphrase="wrong passphrase")
            self.assertEqual(out.returncode, 1)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_export_suppresses_small_cells(self):
        for i in range(10):
            self.assertEqual(self.post(self.forge("--week", "2030-W07", "--platform", "youtube"))[0], 202)
        for i in range(3):
            self.assertEqual(self.post(self.forge("--week", "2030-W07", "--platform", "twitch"))[0], 202)
        out = run([self.dir, "export"])
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0], "week,platform,kind,reports")
        self.assertIn("2030-W07,youtube,suspension,10", lines)
        self.assertIn("2030-W07,twitch,suspension,<10", lines)
        self.assertNotIn("2030-W07,twitch,suspension,3", lines)
        self.assertEqual(run([self.dir, "export", "--min-cell", "5"]).returncode, 2)

    def test_html_and_csv_reports(self):
        self.assertEqual(self.post(self.forge())[0], 202)
        out = run([self.dir, "report", "--format", "html"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("<svg", out.stdout)
        self.assertIn("within 10 minutes", out.stdout)
        self.assertNotIn("<script", out.stdout.lower())
        out = run([self.dir, "report", "--format", "csv"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("section,key,value\n"))
        self.assertEqual(run([self.dir, "report", "--format", "pdf"]).returncode, 2)

    def test_help_everywhere_and_exit_codes(self):
        for cmd in ([], ["keygen"], ["serve"], ["ingest"], ["report"], ["export"]):
            out = subprocess.run([COLLECT, *cmd, "--help"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, cmd)
            self.assertIn("Usage:", out.stdout)
        self.assertEqual(subprocess.run([COLLECT, "frobnicate"], capture_output=True).returncode, 2)
        self.assertEqual(subprocess.run([COLLECT], capture_output=True).returncode, 2)
        # keygen never overwrites a key
        self.assertEqual(run([self.dir, "keygen", "--kdf", "interactive"], passphrase=PASS).returncode, 2)
        # serve with a wrong passphrase
        self.assertEqual(run([self.dir, "serve", "--port", "0"], passphrase="not the passphrase").returncode, 1)

    def test_a_rotated_key_still_opens_reports_sealed_to_the_previous_one(self):
        new = tempfile.mkdtemp(prefix="bt-rotated-")
        procs = []
        try:
            out = run([new, "keygen", "--kdf", "interactive", "--difficulty", str(DIFFICULTY)], passphrase="new passphrase 2")
            self.assertEqual(out.returncode, 0, out.stderr)
            new_pk = json.loads(out.stdout)["public_key"]
            shutil.copy(os.path.join(self.dir, "union.key"), os.path.join(new, "previous.key"))
            # without --previous-key, a report sealed to the old key is another key's
            proc, port = serve(new, "new passphrase 2")
            procs.append(proc)
            old_report = self.forge("--platform", "bluesky")
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/v1/reports", body=old_report)
            r = c.getresponse()
            self.assertEqual((r.status, json.loads(r.read())["error"]["code"]), (400, "wrong_key"))
            c.close()
            proc.terminate()
            # with it (each key's passphrase, one a line): both keys open, a stranger's does not
            proc, port = serve(new, "new passphrase 2\n" + PASS, "--previous-key")
            procs.append(proc)
            for body, status in ((old_report, 202), (self.forge(pk=new_pk), 202),
                                 (self.forge(pk=base64.b64encode(os.urandom(32)).decode()), 400)):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                c.request("POST", "/v1/reports", body=body)
                r = c.getresponse()
                self.assertEqual(r.status, status, r.read())
                r.read()
                c.close()
            self.assertEqual(json.loads(run([new, "report"]).stdout)["by_platform"].get("bluesky"), 1)
            # the previous key's passphrase is checked too
            out = run([new, "serve", "--port", "0", "--previous-key"], passphrase="new passphrase 2\nnot it at all")
            self.assertEqual(out.returncode, 1)
            self.assertIn("--previous-key", out.stderr)
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=10)
                p.stdout.close()
                p.stderr.close()
            shutil.rmtree(new, ignore_errors=True)

    def test_no_address_is_stored(self):
        self.assertEqual(self.post(self.forge())[0], 202)
        for table in ("reports", "seen", "owners", "spent", "invites"):
            cols = columns(self.dir, table)
            self.assertTrue(cols, table)
            for word in ("addr", "ip", "host", "time", "agent"):
                self.assertFalse([c for c in cols if word in c.lower()], cols)
        everything = dump(self.dir)  # the SQLite file, or pg_dump of the database: schema and rows
        self.assertTrue(b"reports" in everything, "the dump holds the tables")
        self.assertFalse(b"127.0.0.1" in everything, "an address is in the store")
        mode = os.stat(os.path.join(self.dir, "union.key")).st_mode & 0o777
        self.assertEqual(mode, 0o600)


if __name__ == "__main__":
    unittest.main(verbosity=2)
