"""Cases, appeal events and the evidence export, through the real host and
the real CLI (docs/PROTOCOL.md "Cases and appeals", docs/EVIDENCE.md)."""
import base64
import hashlib
import json
import os
import pty
import select
import shutil
import struct
import time
import unittest
import zlib

from btproto import HostTest, CLI, Host, cli, new_home

PASS = "correct horse battery"
URL = "https://www.instagram.com/accounts/suspended/"
SUSPENDED = ("We suspended your account @maria.k on 3 March 2026. Your account, or activity on it, doesn't "
             "follow our Community Standards. You have 180 days left to disagree with this decision.")
RECEIVED = "Thanks for your request. We received your appeal and will review it soon."
REJECTED = ("We reviewed your account and found that it still doesn't follow our Community Standards. Your "
            "account is permanently disabled and you can't request another review.")
# 2026-03-03: suspended 10:00, appeal 12:05, acknowledged 12:06, rejected 12:09:30
T_SUSPENDED, T_APPEAL, T_ACK, T_REJECTED = 1772532000, 1772539500, 1772539560, 1772539770


def png(width=4, height=3):
    """A real, tiny PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + b"\xc0\x20\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def cases_of(out):
    """The cases of a `--json case list`, an ongoing lock-out's length (now less its start, which moves
    by the second) left out."""
    cases = json.loads(out.stdout)["cases"]
    for c in cases:
        if c["durations"].get("locked_out_ongoing"):
            c["durations"].pop("locked_out")
    return cases


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def iso(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Base(HostTest):
    """A host on a throwaway log, and the appeal story told to it."""

    def capture(self, text, at, **kw):
        r = self.host.ok("capture", dict({"url": URL, "lang": "en", "text": text, "observed_at": iso(at)}, **kw))
        self.assertTrue(r["stored"], r)
        return r["id"]

    def story(self, answer_after=T_REJECTED - T_APPEAL):
        """suspended page (with its screenshot) -> appeal form submitted -> "we received your appeal" -> rejection."""
        h = self.host
        self.shot = png()
        first = self.capture(SUSPENDED, T_SUSPENDED)
        self.shot_id = h.ok("attach", {"record": first, "mime": "image/png",
                                       "data": base64.b64encode(self.shot).decode()})["id"]
        ev = h.ok("event_add", {"event": "appeal_submitted", "platform": "instagram", "at": T_APPEAL,
                                "manual": False, "note": "I run a bakery <b>account</b>; nothing broke the rules."})
        self.assertEqual(ev["case"], first)
        self.capture(RECEIVED, T_ACK)
        self.capture(REJECTED, T_APPEAL + answer_after)
        return first


class AppealStory(Base):
    def test_suspension_appeal_ack_rejection_is_one_case_of_four_events(self):
        first = self.story()
        cases = self.host.ok("cases")
        self.assertEqual(cases["count"], 1)
        c = cases["cases"][0]
        self.assertEqual(c["id"], first)
        self.assertEqual(c["platform"], "instagram")
        self.assertEqual(c["handle"], "@maria.k")
        self.assertEqual(c["event_count"], 4)
        self.assertEqual(c["attachment_count"], 1)
        self.assertEqual(c["outcome"], "rejected")
        self.assertEqual(c["times"]["restricted_at"], T_SUSPENDED)
        self.assertEqual(c["times"]["appealed_at"], T_APPEAL)
        self.assertEqual(c["times"]["acknowledged_at"], T_ACK)
        self.assertEqual(c["times"]["answered_at"], T_REJECTED)
        self.assertEqual(c["durations"]["restriction_to_appeal"], 2 * 3600 + 5 * 60)
        self.assertEqual(c["durations"]["appeal_to_answer"], 270)
        self.assertEqual(c["durations"]["appeal_to_answer_minutes"], 4)
        self.assertTrue(c["durations"]["locked_out_ongoing"])
        self.assertGreater(c["durations"]["locked_out"], 0)
        self.assertTrue(c["answered_within_10_minutes"])
        got = self.host.ok("case_get", {"id": first})
        events = got["case"]["events"]
        self.assertEqual([e["event"] for e in events],
                         ["restriction", "appeal_submitted", "acknowledgement", "decision"])
        self.assertEqual(events[3]["outcome"], "rejected")
        self.assertEqual(events[0]["attachments"], [self.shot_id])
        self.assertFalse(events[1]["manual"])
        self.assertEqual(events[1]["note"], "I run a bakery <b>account</b>; nothing broke the rules.")
        self.assertTrue(all(len(e["hash"]) == 64 for e in events))
        self.assertNotIn("text", events[0])  # notice text only through get
        self.assertIsNone(got["next_offset"])
        # the same through a record id
        self.assertEqual(self.host.ok("case_get", {"record": events[2]["record"]})["case"]["id"], first)

    def test_an_answer_after_eleven_minutes_is_not_flagged(self):
        self.story(answer_after=11 * 60)
        c = self.host.ok("cases")["cases"][0]
        self.assertEqual(c["durations"]["appeal_to_answer_minutes"], 11)
        self.assertFalse(c["answered_within_10_minutes"])

    def test_cli_case_list_and_show_print_the_derived_times(self):
        first = self.story()
        self.host.close()
        out = cli(self.home, "case", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"@maria.k", out.stdout)
        self.assertIn(b"2 h 5 min", out.stdout)
        self.assertIn(b"4 min (<10 min)", out.stdout)
        self.assertIn(b"ongoing", out.stdout)
        out = cli(self.home, "case", "show", str(first))
        self.assertEqual(out.returncode, 0, out.stderr)
        for want in (b"Restriction to appeal: 2 h 5 min", b"Appeal to answer:      4 min (270 s)",
                     b"ANSWERED WITHIN 10 MINUTES", b"appeal_submitted", b"decision (appeal_rejected): rejected",
                     b"2026-03-03 12:09:30"):
            self.assertIn(want, out.stdout)
        js = json.loads(cli(self.home, "--json", "case", "show", str(first)).stdout)
        self.assertEqual(len(js["events"]), 4)
        self.assertEqual(cli(self.home, "case", "show", "999").returncode, 1)  # not found

    def test_case_list_is_exact_when_the_cases_kept_beside_the_snapshot_are_stale(self):
        """The cases kept beside the snapshot (log.sqlite-index-cases) made stale by an entry that a
        process which never saves them appended (a host killed before its idle save): case list does
        not list from them (their stamp, the last entry and its chain hash, is no longer the log's
        last) but from the log, the same list as with no snapshot at all, and writes them anew."""
        self.story()
        self.host.close()
        kept = os.path.join(self.home, "log.sqlite-index-cases")
        first = cli(self.home, "--json", "case", "list")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(len(cases_of(first)), 1)
        stale = read_bytes(kept)  # written by the CLI's end: the cases of the log's last entry
        again = cli(self.home, "--json", "case", "list")  # listed from the file: the same
        self.assertEqual(cases_of(again), cases_of(first))
        h = Host(self.home)  # another platform's suspension, then killed: nothing saved
        r = h.ok("capture", {"url": "https://x.com/account/suspended", "lang": "en", "observed_at": iso(T_REJECTED + 60),
                             "text": "Your account @maria_k is suspended. After careful review, we determined your account broke the X Rules."})
        self.assertTrue(r["stored"], r)
        h.proc.kill()
        h.proc.wait()
        for f in (h.proc.stdin, h.proc.stdout, h.proc.stderr):
            f.close()
        self.assertEqual(read_bytes(kept), stale)  # stale now: of the entry before the capture
        out = cli(self.home, "--json", "case", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        listed = cases_of(out)
        self.assertEqual(sorted(c["platform"] for c in listed), ["instagram", "x"])
        self.assertNotEqual(read_bytes(kept), stale)  # written anew, of the log's last entry
        self.assertEqual(cases_of(cli(self.home, "--json", "case", "list")), listed)  # from the new file
        for name in ("log.sqlite-index", "log.sqlite-index-entries", "log.sqlite-index-cases"):
            os.remove(os.path.join(self.home, name))
        self.assertEqual(cases_of(cli(self.home, "--json", "case", "list")), listed)  # from the log alone

    def test_exports_hold_the_timeline_screenshots_hashes_and_head(self):
        first = self.story()
        self.host.close()
        verify = json.loads(cli(self.home, "--json", "verify").stdout)
        shown = json.loads(cli(self.home, "--json", "case", "show", str(first)).stdout)
        hashes = [e["hash"] for e in shown["events"]]
        jpath, hpath = os.path.join(self.home, "case.json"), os.path.join(self.home, "case.html")
        out = cli(self.home, "export", "--case", str(first), "--format", "json", "-o", jpath, stdin=b"")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(os.stat(jpath).st_mode & 0o777, 0o600)
        doc = json.loads(read(jpath))
        self.assertEqual(doc["format"], "bantrail-evidence")
        self.assertEqual(doc["chain"]["head"], verify["head"])
        self.assertTrue(doc["chain"]["verified"])
        evs = doc["case"]["events"]
        self.assertEqual([e["event"] for e in evs], ["restriction", "appeal_submitted", "acknowledgement", "decision"])
        self.assertEqual([e["hash"] for e in evs], hashes)
        self.assertEqual(evs[0]["header"]["text"], SUSPENDED)
        self.assertEqual(base64.b64decode(evs[0]["attachments_data"][0]["data"]), self.shot)
        self.assertEqual(doc["case"]["durations"]["appeal_to_answer"], 270)

        out = cli(self.home, "export", "--case", str(first), "--format", "html", "-o", hpath, stdin=b"")
        self.assertEqual(out.returncode, 0, out.stderr)
        html = read(hpath)
        self.assertIn("data:image/png;base64," + base64.b64encode(self.shot).decode(), html)
        for h in hashes + [verify["head"]]:
            self.assertIn(h, html)
        for want in ("Appeal submitted", "Appeal acknowledged", "Decision: appeal rejected", "4 min (270 s)",
                     "within 10 minutes", "bantrail verify", "I run a bakery &lt;b&gt;account&lt;/b&gt;",
                     "We received your appeal"):
            self.assertIn(want, html)
        self.assertNotIn("<script", html.lower())
        self.assertNotIn("<b>account</b>", html)

    def test_export_refuses_an_existing_file_and_a_symlink(self):
        first = self.story()
        self.host.close()
        path = os.path.join(self.home, "exists.html")
        with open(path, "w") as f:
            f.write("earlier export")
        out = cli(self.home, "export", "--case", str(first), "--format", "html", "-o", path, stdin=b"")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"not overwritten", out.stderr)
        self.assertEqual(read(path), "earlier export")
        target, link = os.path.join(self.home, "elsewhere"), os.path.join(self.home, "link.html")
        os.symlink(target, link)
        for extra in ((), ("--force",)):
            out = cli(self.home, "export", "--case", str(first), "--format", "json", "-o", link, *extra, stdin=b"")
            self.assertNotEqual(out.returncode, 0)
            self.assertIn(b"symbolic link", out.stderr)
            self.assertFalse(os.path.exists(target))
        # asked for with --force, a regular file is replaced
        out = cli(self.home, "export", "--case", str(first), "--format", "html", "-o", path, "--force", stdin=b"")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("<!DOCTYPE html>", read(path))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)

    def on_terminal(self, args, answer):
        """Runs the CLI on a pseudo-terminal and answers its question."""
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["BANTRAIL_HOME"] = self.home
            os.execv(CLI, [CLI, *args])
        seen, deadline, answered = b"", time.monotonic() + 60, False
        while time.monotonic() < deadline:
            if not answered and b"[y/N] " in seen:
                os.write(fd, answer + b"\n")
                answered = True
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # the child has gone
                    break
                if not chunk:
                    break
                seen += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), seen

    def test_export_asks_on_a_terminal_before_replacing(self):
        first = self.story()
        self.host.close()
        path = os.path.join(self.home, "earlier.html")
        with open(path, "w") as f:
            f.write("earlier export")
        args = ["export", "--case", str(first), "--format", "html", "-o", path]
        code, seen = self.on_terminal(args, b"n")
        self.assertNotEqual(code, 0, seen)
        self.assertIn(b"Replace it? [y/N]", seen)
        self.assertEqual(read(path), "earlier export")
        code, seen = self.on_terminal(args, b"y")
        self.assertEqual(code, 0, seen)
        self.assertIn("<!DOCTYPE html>", read(path))

    def test_export_is_paged_below_one_mebibyte(self):
        h = self.host
        first = self.capture(SUSPENDED, T_SUSPENDED)
        big = png() + os.urandom(1_500_000)  # a PNG signature, then bulk
        h.ok("attach", {"record": first, "mime": "image/png", "data": base64.b64encode(big).decode()})
        pages, offset, params = [], 0, {"id": first, "format": "html"}
        while True:
            r = h.ok("case_export", dict(params, offset=offset))  # btproto asserts frames <= 1 MiB
            params.update(upto=r["upto"], generated_at=r["generated_at"])
            pages.append(base64.b64decode(r["data"]))
            if r["next_offset"] is None:
                break
            offset = r["next_offset"]
        doc = b"".join(pages)
        self.assertGreater(len(pages), 2)
        self.assertEqual(len(doc), r["size"])
        self.assertEqual(hashlib.blake2b(doc, digest_size=32).hexdigest(), r["digest"])
        self.assertIn(base64.b64encode(big), doc)


class MergeSplit(Base):
    def test_merge_and_split_keep_every_record_and_the_chain(self):
        h = self.host
        a = self.capture(SUSPENDED, T_SUSPENDED)
        # the same account, 40 days later, no handle shown: a second case until merged
        b = self.capture("Your account has been disabled.", T_SUSPENDED + 40 * 86400)
        self.assertEqual(h.ok("cases")["count"], 2)
        before = h.ok("list")["entries"]
        m = h.ok("case_merge", {"cases": [b, a]})
        self.assertEqual(m["id"], a)
        cases = h.ok("cases")
        self.assertEqual(cases["count"], 1)
        self.assertEqual(cases["cases"][0]["event_count"], 2)
        v = h.ok("verify")
        self.assertTrue(v["ok"])
        self.assertEqual(v["checked"], len(before) + 1)
        s = h.ok("case_split", {"record": b})
        self.assertEqual((s["case"], s["new_case"]), (a, b))
        cases = h.ok("cases")
        self.assertEqual([c["id"] for c in cases["cases"]], [a, b])
        self.assertTrue(h.ok("verify")["ok"])
        # every record is still there and readable
        for e in before:
            self.assertEqual(h.ok("get", {"id": e["id"]})["record"]["type"], "notice")
        self.assertEqual(len(h.ok("list")["entries"]), len(before) + 2)
        # and the CLI agrees
        h.close()
        out = cli(self.home, "case", "merge", str(a), str(b))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(json.loads(cli(self.home, "--json", "case", "list").stdout)["cases"]), 1)
        out = cli(self.home, "case", "split", str(b))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(json.loads(cli(self.home, "--json", "case", "list").stdout)["cases"]), 2)
        self.assertEqual(cli(self.home, "verify").returncode, 0)

    def test_bad_merges_and_splits_are_refused_and_not_logged(self):
        h = self.host
        a = self.capture(SUSPENDED, T_SUSPENDED)
        n = h.ok("stats")["entries"]
        self.assertEqual(self.error(h.call("case_merge", {"cases": [a, a]})), "bad_params")
        self.assertEqual(self.error(h.call("case_merge", {"cases": [a]})), "bad_params")
        self.assertEqual(self.error(h.call("case_merge", {"cases": [a, 77]})), "not_found")
        self.assertEqual(self.error(h.call("case_split", {"record": a})), "bad_params")  # nothing would remain
        self.assertEqual(self.error(h.call("case_split", {"record": 77})), "not_found")
        self.assertEqual(h.ok("stats")["entries"], n)


class Events(Base):
    def test_event_add_checks_what_it_stores(self):
        h = self.host
        a = self.capture(SUSPENDED, T_SUSPENDED)
        bad = [{"event": "appealed", "platform": "instagram", "at": T_APPEAL},
               {"event": "decision", "platform": "instagram", "at": T_APPEAL},  # no outcome
               {"event": "decision", "outcome": "maybe", "platform": "instagram", "at": T_APPEAL},
               {"event": "appeal_submitted", "outcome": "rejected", "platform": "instagram", "at": T_APPEAL},
               {"event": "appeal_submitted", "platform": "instagram", "at": "3 March 2026"},
               {"event": "appeal_submitted", "platform": "instagram", "at": 4102444800},  # 2100
               {"event": "appeal_submitted", "at": T_APPEAL},  # neither case nor platform
               {"event": "appeal_submitted", "platform": "Insta Gram", "at": T_APPEAL},
               {"event": "appeal_submitted", "case": a, "platform": "facebook", "at": T_APPEAL}]
        n = h.ok("stats")["entries"]
        for p in bad:
            self.assertEqual(self.error(h.call("event_add", p)), "bad_params", p)
        self.assertEqual(self.error(h.call("event_add", {"event": "appeal_submitted", "case": 99, "at": T_APPEAL})),
                         "not_found")
        self.assertEqual(h.ok("stats")["entries"], n)
        # by hand, into a named case, with an ISO time: stored and marked manual
        r = h.ok("event_add", {"event": "decision", "outcome": "reinstated", "case": a, "at": "2026-03-10T09:00:00Z",
                               "note": "Letter from the platform"})
        self.assertEqual(r["case"], a)
        ev = h.ok("case_get", {"id": a})["case"]["events"][-1]
        self.assertEqual((ev["event"], ev["outcome"], ev["manual"], ev["time"]), ("decision", "reinstated", True, "stated"))
        c = h.ok("cases")["cases"][0]
        self.assertFalse(c["durations"]["locked_out_ongoing"])
        self.assertEqual(c["durations"]["locked_out"], 1773133200 - T_SUSPENDED)

    def test_cli_event_add_marks_it_entered_by_hand(self):
        a = self.capture(SUSPENDED, T_SUSPENDED)
        self.host.close()
        out = cli(self.home, "event", "add", "--case", str(a), "--event", "appeal_submitted",
                  "--at", "2026-03-04T08:00:00Z", "--note", "Appealed in the mobile app")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"entered by hand", out.stdout)
        self.assertIn(b"case %d" % a, out.stdout)
        show = json.loads(cli(self.home, "--json", "case", "show", str(a)).stdout)
        self.assertEqual(show["events"][1]["note"], "Appealed in the mobile app")
        self.assertTrue(show["events"][1]["manual"])
        self.assertEqual(show["durations"]["restriction_to_appeal"], 22 * 3600)
        self.assertEqual(cli(self.home, "event", "add", "--event", "appeal_submitted", "--at", "2026-03-04").returncode, 2)
        self.assertEqual(cli(self.home, "event", "add", "--platform", "instagram", "--event", "decision",
                             "--at", "2026-03-04").returncode, 2)  # bad_params: no outcome

    def test_case_methods_need_the_log_readable_but_events_from_the_browser_do_not(self):
        h = self.host
        a = self.capture(SUSPENDED, T_SUSPENDED)
        h.set_passphrase({"new": PASS, "kdf_ops": 1, "kdf_mem": 8192})
        h.ok("lock")
        for method, params in (("cases", None), ("case_get", {"id": a}), ("case_merge", {"cases": [a, a + 1]}),
                               ("case_split", {"record": a}), ("case_export", {"id": a, "format": "html"}),
                               ("event_add", {"event": "appeal_submitted", "case": a, "at": T_APPEAL})):
            self.assertEqual(self.error(h.call(method, params)), "locked", method)
        # the extension records a submitted appeal form while the log is locked, as it captures
        r = h.ok("event_add", {"event": "appeal_submitted", "platform": "instagram", "at": T_APPEAL, "manual": False})
        self.assertIsNone(r["case"])
        h.ok("unlock", {"passphrase": PASS})
        self.assertEqual(h.ok("cases")["cases"][0]["times"]["appealed_at"], T_APPEAL)


if __name__ == "__main__":
    unittest.main(verbosity=2)
