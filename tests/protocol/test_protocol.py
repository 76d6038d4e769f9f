"""The real bantrail-host over pipes: the protocol as docs/PROTOCOL.md says."""
import base64
import json
import os
import shutil
import sqlite3
import struct
import unittest

from btproto import HostTest, Host, cli, frame, new_home

PASS = "correct horse battery"
NOTICE = {"url": "https://www.instagram.com/accounts/suspended/", "title": "Suspended",
          "lang": "en", "text": "We suspended your account on 3 March 2026. You have 180 days to disagree.",
          "observed_at": "2026-03-03T10:00:00Z"}


class Session(HostTest):
    def test_hello_reports_version_state_counts_and_key(self):
        r = self.host.ok("hello")
        self.assertEqual(r["protocol"], 1)
        self.assertIn("capture", r["capabilities"])
        self.assertEqual(r["vault"]["state"], "unprotected")
        self.assertEqual(r["vault"]["entries"], 0)
        self.assertEqual(len(base64.b64decode(r["vault"]["public_key"])), 32)

    def test_capture_locked_then_passphrase_unlock_list_get_lock(self):
        h = self.host
        first = h.ok("capture", NOTICE)["id"]
        self.assertEqual(h.set_passphrase({"new": PASS})["state"], "unlocked")
        h.ok("lock")
        self.assertEqual(h.ok("hello")["vault"]["state"], "locked")
        # capture works while locked
        second = h.ok("capture", dict(NOTICE, text="Your account has been disabled."))["id"]
        self.assertEqual(second, first + 1)
        # locked: list shows ids and sizes only, get is refused
        lst = h.ok("list")
        self.assertEqual([e["id"] for e in lst["entries"]], [first, second])
        self.assertNotIn("url", lst["entries"][0])
        self.assertEqual(self.error(h.call("get", {"id": first})), "locked")
        self.assertEqual(self.error(h.call("unlock", {"passphrase": "wrong passphrase"})), "wrong_passphrase")
        self.assertEqual(h.ok("unlock", {"passphrase": PASS})["state"], "unlocked")
        lst = h.ok("list")
        self.assertEqual(lst["entries"][0]["url"], NOTICE["url"])
        self.assertNotIn("text", lst["entries"][0])
        rec = h.ok("get", {"id": second})["record"]
        self.assertEqual(rec["text"], "Your account has been disabled.")
        self.assertEqual(rec["observed_at"], NOTICE["observed_at"])
        h.ok("lock")
        self.assertEqual(self.error(h.call("get", {"id": second})), "locked")
        # the CLI reads the same log
        out = cli(self.home, "--json", "show", str(first), passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["record"]["text"], NOTICE["text"])

    def test_software_makes_an_unlisted_server_the_platform_s(self):
        h = self.host
        limited = {"url": "https://social.riverside-town.org/home", "lang": "en",
                   "text": "Your account has been limited\nA moderator of social.riverside-town.org has limited "
                           "your account. Your posts are only visible to people who already follow you."}
        bare = h.ok("capture", limited)["classification"]
        self.assertNotEqual(bare["platform"], "mastodon")   # an unlisted host is nobody's
        r = h.ok("capture", dict(limited, software="mastodon"))
        self.assertEqual(r["classification"]["platform"], "mastodon")
        self.assertTrue(r["stored"])
        # only a platform the rules say runs on many servers; nothing else is taken on trust
        other = h.ok("capture", dict(limited, software="instagram"))["classification"]
        self.assertNotEqual(other["platform"], "instagram")
        self.assertEqual(self.error(h.call("capture", dict(limited, software=5))), "bad_params")
        self.assertEqual(self.error(h.call("capture", dict(limited, software="x" * 40))), "bad_params")

    def test_attachment_is_stored_and_read_back_in_pages(self):
        h = self.host
        rid = h.ok("capture", NOTICE)["id"]
        png = os.urandom(1_300_000)  # more than two pages
        aid = h.ok("attach", {"record": rid, "mime": "image/png",
                              "data": base64.b64encode(png).decode()})["id"]
        got = h.ok("get", {"id": rid})
        self.assertEqual(got["attachments"], [{"id": aid, "mime": "image/png", "size": len(png)}])
        data, offset = b"", 0
        while offset is not None:
            page = h.ok("get", {"id": aid, "offset": offset})
            data += base64.b64decode(page["data"])
            offset = page["next_offset"]
        self.assertEqual(data, png)
        self.assertEqual(self.error(h.call("attach", {"record": 999, "mime": "image/png", "data": "AAAA"})),
                         "not_found")
        self.assertEqual(self.error(h.call("attach", {"record": rid, "mime": "image/png", "data": "**"})),
                         "bad_params")
        self.assertEqual(self.error(h.call("attach", {"record": rid, "mime": "application/x-sh",
                                                      "data": "AAAA"})), "bad_params")

    def test_list_pages_and_verify(self):
        h = self.host
        for i in range(7):
            h.ok("capture", dict(NOTICE, text=f"Your account has been suspended. Reference {i}."))
        page = h.ok("list", {"limit": 3})
        self.assertEqual([e["id"] for e in page["entries"]], [1, 2, 3])
        self.assertEqual(page["next"], 3)
        page = h.ok("list", {"after": 6, "limit": 3})
        self.assertEqual([e["id"] for e in page["entries"]], [7])
        self.assertIsNone(page["next"])
        v = h.ok("verify")
        self.assertTrue(v["ok"])
        self.assertEqual(v["checked"], 7)
        self.assertEqual(h.ok("stats")["entries"], 7)

    def test_a_recovery_code_resets_the_passphrase_once_and_unlocks_nothing(self):
        h = self.host
        first = h.ok("capture", NOTICE)["id"]
        h.set_passphrase({"new": PASS})
        code = h.ok("recovery_code")["code"]
        h.ok("recovery_code", {"confirm": True})
        h.ok("lock")
        self.assertEqual(self.error(h.call("recovery_code")), "locked")
        # it does not unlock: the only use of a code is the reset, which uses it up
        self.assertEqual(self.error(h.call("unlock", {"recovery_code": code})), "bad_params")
        self.assertEqual(h.ok("hello")["vault"]["state"], "locked")
        self.assertEqual(self.error(h.call("set_passphrase", {"recovery_code": "0000-1111", "new": "x" * 12})),
                         "wrong_passphrase")
        self.assertEqual(self.error(h.call("set_passphrase", {"recovery_code": code, "old": PASS, "new": "x" * 12})),
                         "bad_params")
        self.assertEqual(h.set_passphrase({"recovery_code": code, "new": "brand new passphrase"})["state"], "unlocked")
        self.assertEqual(h.ok("get", {"id": first})["record"]["text"], NOTICE["text"])
        h.ok("lock")
        # used up: the same code resets nothing again (an attacker who saw it later gains nothing)
        self.assertEqual(self.error(h.call("set_passphrase", {"recovery_code": code, "new": "the attacker's one"})),
                         "wrong_passphrase")
        self.assertEqual(h.ok("hello")["vault"]["state"], "locked")
        self.assertEqual(self.error(h.call("unlock", {"passphrase": PASS})), "wrong_passphrase")
        self.assertEqual(self.error(h.call("unlock", {"passphrase": "the attacker's one"})), "wrong_passphrase")
        h.ok("unlock", {"passphrase": "brand new passphrase"})

    def test_each_passphrase_brings_a_new_key_pair_and_retires_the_recovery_code(self):
        h = self.host
        keys = [h.ok("hello")["vault"]["public_key"]]
        first = h.ok("capture", NOTICE)["id"]
        h.set_passphrase({"new": PASS})
        keys.append(h.ok("hello")["vault"]["public_key"])
        code = h.ok("recovery_code")["code"]
        h.ok("recovery_code", {"confirm": True})
        self.assertTrue(h.ok("hello")["vault"]["has_recovery"])
        h.set_passphrase({"new": "another passphrase", "old": PASS})
        vault = h.ok("hello")["vault"]
        keys.append(vault["public_key"])
        self.assertEqual(len(set(keys)), 3, "a new public key with each passphrase")
        self.assertFalse(vault["has_recovery"])
        second = h.ok("capture", dict(NOTICE, text="Your account has been disabled."))["id"]
        h.ok("lock")
        self.assertEqual(self.error(h.call("set_passphrase", {"recovery_code": code, "new": "x" * 12})),
                         "wrong_passphrase")
        self.assertEqual(self.error(h.call("unlock", {"passphrase": PASS})), "wrong_passphrase")
        h.ok("unlock", {"passphrase": "another passphrase"})
        self.assertEqual(h.ok("get", {"id": first})["record"]["text"], NOTICE["text"])
        self.assertEqual(h.ok("get", {"id": second})["record"]["text"], "Your account has been disabled.")
        self.assertTrue(h.ok("verify")["ok"])

    def test_captures_sent_together_are_each_acknowledged_stored_and_answered_in_order(self):
        # group commit: captures already waiting are stored in one transaction, each answered after it
        h = self.host
        texts = [f"We suspended your account (notice {i} of a burst). " + "y" * (i * 50) for i in range(30)]
        reqs = [{"id": 100 + i, "method": "capture", "params": dict(NOTICE, text=t)} for i, t in enumerate(texts)]
        reqs.append({"id": 200, "method": "stats"})  # not a capture: answered after the group
        h.send_raw(b"".join(frame(r) for r in reqs))
        reps = [h.read() for _ in reqs]
        self.assertEqual([r["id"] for r in reps], [r["id"] for r in reqs])
        ids = [r["result"]["id"] for r in reps[:30]]
        self.assertEqual(ids, list(range(1, 31)))
        self.assertEqual(reps[30]["result"]["entries"], 30)
        with open(os.path.join(self.home, "host.log")) as f:
            self.assertNotIn("not stored together", f.read())
        for rid, t in zip(ids, texts):
            self.assertEqual(h.ok("get", {"id": rid})["record"]["text"], t)
        self.assertTrue(h.ok("verify")["ok"])

    def test_a_refused_capture_among_captures_sent_together_leaves_the_others_stored(self):
        h = self.host
        reqs = [{"id": i, "method": "capture", "params": dict(NOTICE, text=f"We disabled your account {i}.")}
                for i in range(12)]
        reqs[5] = {"id": 5, "method": "capture", "params": {"text": "no url"}}  # refused: the group is undone
        h.send_raw(b"".join(frame(r) for r in reqs))
        reps = [h.read() for _ in reqs]
        self.assertEqual([r["id"] for r in reps], list(range(12)))
        self.assertEqual(self.error(reps[5]), "bad_params")
        ok = [r["result"]["id"] for i, r in enumerate(reps) if i != 5]
        self.assertEqual(ok, list(range(1, 12)))  # each stored once, in order, nothing of the undone group left
        self.assertEqual(h.ok("stats")["entries"], 11)
        with open(os.path.join(self.home, "host.log")) as f:  # they were gathered into one group
            self.assertIn("12 captures arrived together and were not stored together", f.read())
        for i, rid in zip([i for i in range(12) if i != 5], ok):
            self.assertEqual(h.ok("get", {"id": rid})["record"]["text"], f"We disabled your account {i}.")
        self.assertTrue(h.ok("verify")["ok"])

    def test_a_bad_frame_after_captures_sent_together_is_answered_after_them(self):
        h = self.host
        caps = [frame({"id": i, "method": "capture", "params": dict(NOTICE, text=f"We locked your account {i}.")})
                for i in range(4)]
        h.send_raw(caps[0] + caps[1] + struct.pack("=I", 0) + caps[2] + caps[3])  # a zero-length frame among them
        reps = [h.read() for _ in range(5)]
        self.assertEqual([r.get("id") for r in reps], [0, 1, None, 2, 3])
        self.assertEqual(self.error(reps[2]), "bad_frame")
        self.assertEqual([r["result"]["id"] for r in reps if "result" in r], [1, 2, 3, 4])
        self.assertEqual(h.ok("stats")["entries"], 4)

    def test_a_deleted_shared_memory_file_does_not_split_two_writers(self):
        # SQLite's hazard: a host keeps its map of a deleted log.sqlite-shm while a second process
        # makes a new one; each then writes the WAL by its own index. The host must notice.
        h = self.host
        for i in range(5):
            h.ok("capture", dict(NOTICE, text=f"We suspended your account {i}."))
        os.unlink(os.path.join(self.home, "log.sqlite-shm"))
        out = cli(self.home, "--json", "capture", "--manual", "--url", NOTICE["url"],
                  stdin=b"We suspended your account, said the other process.")
        self.assertEqual(out.returncode, 0, out.stderr)
        second = Host(self.home)  # another host, as a second browser would start one
        try:
            other = second.ok("capture", dict(NOTICE, text="We locked your account, said the second host."))
            self.assertEqual(other["id"], 7)
        finally:
            second.close()
        ids = [h.ok("capture", dict(NOTICE, text=f"We disabled your account {i}."))["id"] for i in range(5)]
        self.assertEqual(ids, list(range(8, 13)))
        out = cli(self.home, "--json", "verify")
        v = json.loads(out.stdout)
        self.assertEqual((v["ok"], v["checked"]), (True, 12), out.stdout)
        texts = [json.loads(cli(self.home, "--json", "show", str(i)).stdout)["record"]["text"] for i in (6, 7, 12)]
        self.assertEqual(texts, ["We suspended your account, said the other process.",
                                 "We locked your account, said the second host.", "We disabled your account 4."])

    def test_a_new_recovery_code_replaces_the_earlier_only_once_confirmed(self):
        h = self.host
        h.set_passphrase({"new": PASS})
        first = h.ok("recovery_code")["code"]
        vault = h.ok("hello")["vault"]
        self.assertEqual((vault["has_recovery"], vault.get("recovery_pending")), (False, True))
        self.assertEqual(h.ok("recovery_code", {"confirm": True}), {"confirmed": True})
        self.assertEqual(self.error(h.call("recovery_code", {"confirm": True})), "not_found")
        second = h.ok("recovery_code")["code"]  # its reply never reaches the person
        self.assertEqual(self.error(h.call("recovery_code", {"confirm": "yes"})), "bad_params")
        h.ok("lock")
        # exactly one code works while the new one waits: the earlier
        self.assertEqual(self.error(h.call("set_passphrase", {"recovery_code": second, "new": "x" * 12})),
                         "wrong_passphrase")
        h.set_passphrase({"recovery_code": first, "new": "second passphrase"})  # the one written down works
        h.ok("lock")
        for code in (first, second):  # and the reset retired both
            self.assertEqual(self.error(h.call("set_passphrase", {"recovery_code": code, "new": "x" * 12})),
                             "wrong_passphrase")

    def test_a_locked_host_does_not_tell_whether_a_notice_was_captured(self):
        """The attack of issue 13: after lock, a caller sends a guessed notice; the answer must be the
        same whether it was captured before or never. The repeat is not lost: reading folds it."""
        h = self.host
        h.set_passphrase({"new": PASS})
        seen = h.ok("capture", NOTICE)
        again = h.ok("capture", NOTICE)  # unlocked: folded at once, as before
        self.assertEqual((again["occurrence"], again["id"]), (True, seen["id"]))
        h.ok("lock")
        guess = h.ok("capture", NOTICE)
        other = h.ok("capture", dict(NOTICE, text="We disabled your account for 30 days.",
                                     url="https://www.instagram.com/accounts/disabled/"))
        shape = lambda r: (r["stored"], r["occurrence"], "entry" in r, r["id"] > seen["id"])
        self.assertEqual(shape(guess), shape(other))
        self.assertEqual(shape(guess), (True, False, False, True))
        self.assertEqual(shape(h.ok("capture", NOTICE)), shape(other))  # nor what it captured while locked
        h.ok("unlock", {"passphrase": PASS})
        events = h.ok("case_get", {"record": seen["id"]})["case"]["events"]
        self.assertEqual([(e["record"], e["sightings"]) for e in events if e["record"] in (seen["id"], guess["id"])],
                         [(seen["id"], 4)])  # one record seen four times: no duplicate within 24 h
        # unlocked again: the host folds at once again
        self.assertEqual(h.ok("capture", NOTICE)["occurrence"], True)

    def test_stats_tells_the_chain_hash_stored_at_an_entry(self):
        h = self.host
        genesis = h.ok("stats", {"at": 0})["hash_at"]
        h.ok("capture", NOTICE)
        head_at_1 = h.ok("stats")["head"]
        h.ok("capture", dict(NOTICE, text="Your account has been disabled."))
        st = h.ok("stats", {"at": 1})
        self.assertEqual(st["hash_at"], head_at_1)
        self.assertNotEqual(st["hash_at"], st["head"])
        self.assertEqual(h.ok("stats", {"at": 0})["hash_at"], genesis)
        self.assertEqual(self.error(h.call("stats", {"at": 3})), "not_found")
        self.assertEqual(self.error(h.call("stats", {"at": -1})), "bad_params")
        self.assertNotIn("hash_at", h.ok("stats"))

    def test_set_passphrase_needs_old_once_set(self):
        h = self.host
        h.set_passphrase({"new": PASS})
        self.assertEqual(self.error(h.call("set_passphrase", {"new": "another passphrase"})),
                         "passphrase_required")
        self.assertEqual(self.error(h.call("set_passphrase", {"new": "another passphrase", "old": "nope nope"})),
                         "wrong_passphrase")
        self.assertEqual(self.error(h.call("set_passphrase", {"new": "short", "old": PASS})), "weak_passphrase")
        h.set_passphrase({"new": "another passphrase", "old": PASS})

    def test_a_change_not_confirmed_leaves_the_old_passphrase_in_force_and_hello_says_so(self):
        h = self.host
        h.set_passphrase({"new": PASS, "kdf_ops": 1, "kdf_mem": 8192})
        self.assertEqual(h.ok("set_passphrase", {"new": "the new passphrase", "old": PASS, "kdf_ops": 1,
                                                 "kdf_mem": 8192})["pending"], True)
        self.assertTrue(h.ok("hello")["vault"]["passphrase_pending"])
        h.proc.kill()  # before the confirmation: the answer never reached the person
        h.proc.wait()
        self.host = h = Host(self.home)
        self.assertTrue(h.ok("hello")["vault"]["passphrase_pending"])
        self.assertEqual(self.error(h.call("unlock", {"passphrase": "the new passphrase"})), "wrong_passphrase")
        h.ok("unlock", {"passphrase": PASS})
        self.assertEqual(self.error(h.call("set_passphrase", {"confirm": True})), "passphrase_required")
        self.assertEqual(self.error(h.call("set_passphrase", {"confirm": True, "new": "not the one"})),
                         "wrong_passphrase")
        self.assertTrue(h.ok("set_passphrase", {"confirm": True, "new": "the new passphrase"})["confirmed"])
        self.assertNotIn("passphrase_pending", h.ok("hello")["vault"])
        h.ok("lock")
        self.assertEqual(self.error(h.call("unlock", {"passphrase": PASS})), "wrong_passphrase")
        h.ok("unlock", {"passphrase": "the new passphrase"})
        self.assertEqual(self.error(h.call("set_passphrase", {"confirm": True})), "not_found")


class BadInput(HostTest):
    """Each bad input gets an error reply with a stable code and the host goes on."""

    def assert_still_serving(self):
        self.assertEqual(self.host.ok("hello")["protocol"], 1)

    def raw_error(self, data):
        self.host.send_raw(data)
        rep = self.host.read()
        self.assertIsNotNone(rep)
        self.assertIsNone(rep["id"])
        self.assert_still_serving()
        return rep["error"]["code"]

    def test_not_json(self):
        self.assertEqual(self.raw_error(frame(b"{not json")), "bad_json")

    def test_trailing_bytes_after_json(self):
        self.assertEqual(self.raw_error(frame(b'{"id":1,"method":"hello"} x')), "bad_json")

    def test_invalid_utf8(self):
        self.assertEqual(self.raw_error(frame(b'{"id":1,"method":"\xff\xfe"}')), "bad_json")

    def test_non_object(self):
        self.assertEqual(self.raw_error(frame([1, 2, 3])), "bad_request")

    def test_missing_method(self):
        self.assertEqual(self.raw_error(frame({"id": None})), "bad_request")

    def test_zero_length_frame(self):
        self.assertEqual(self.raw_error(struct.pack("=I", 0)), "bad_frame")

    def test_oversize_frame_is_refused_and_skipped(self):
        n = 32 * 1024 * 1024 + 1
        self.host.send_raw(struct.pack("=I", n))
        chunk = b" " * (1 << 20)
        for _ in range(n // len(chunk)):
            self.host.send_raw(chunk)
        self.host.send_raw(b" " * (n % len(chunk)))
        rep = self.host.read()
        self.assertEqual(rep["error"]["code"], "frame_too_large")
        self.assert_still_serving()

    def test_a_frame_of_millions_of_empty_objects_is_refused_before_parsing(self):
        # 30 MiB of {}, (10 million objects: gigabytes once parsed) is refused at once
        n = 10 * 1024 * 1024
        data = b'{"id":1,"method":"hello","params":{"x":[' + b"{}," * n + b'{}]}}'
        self.assertEqual(self.raw_error(frame(data)), "bad_json")

    def test_deeply_nested_json(self):
        self.assertEqual(self.raw_error(frame(b"[" * 10000 + b"]" * 10000)), "bad_json")

    def test_unknown_method(self):
        rep = self.host.call("format_disk")
        self.assertEqual(self.error(rep), "unknown_method")
        self.assert_still_serving()

    def test_missing_and_mistyped_params(self):
        h = self.host
        self.assertEqual(self.error(h.call("capture", {"url": "https://x/"})), "bad_params")
        self.assertEqual(self.error(h.call("capture", {"url": 5, "text": "t"})), "bad_params")
        self.assertEqual(self.error(h.call("capture", "not an object")), "bad_params")
        self.assertEqual(self.error(h.call("get", {"id": "1"})), "bad_params")
        self.assertEqual(self.error(h.call("get", {"id": -4})), "bad_params")
        self.assertEqual(self.error(h.call("list", {"limit": 100000})), "bad_params")
        self.assertEqual(self.error(h.call("get", {"id": 12345})), "not_found")
        self.assertEqual(h.ok("stats")["entries"], 0)  # nothing stored by the failures

    def test_string_ids_are_echoed(self):
        self.host.send_raw(frame({"id": "abc", "method": "hello"}))
        self.assertEqual(self.host.read()["id"], "abc")

    def test_eof_exits_cleanly(self):
        self.assertEqual(self.host.close(), 0)

    def test_truncated_frame_ends_the_process(self):
        self.host.send_raw(struct.pack("=I", 100) + b'{"id":1')
        self.assertEqual(self.host.close(), 1)

    def test_stdout_carries_frames_only(self):
        # a run with every kind of error, then parse stdout strictly as frames
        h = self.host
        h.send_raw(frame(b"nope") + frame({"id": 1, "method": "nope"}) + frame({"id": 2, "method": "hello"}))
        h.proc.stdin.close()
        out = h.proc.stdout.read()
        h.proc.wait(timeout=30)
        replies = []
        while out:
            (n,) = struct.unpack("=I", out[:4])
            replies.append(json.loads(out[4:4 + n]))
            out = out[4 + n:]
        self.assertEqual([r.get("id") for r in replies], [None, 1, 2])


class Caller(unittest.TestCase):
    def run_host(self, args, look=None):
        home = new_home()
        try:
            h = Host(home, args=args)
            rep = h.call("capture", NOTICE)
            hello = h.ok("hello")
            h.close()
            if look:
                look(home)
            return rep, hello
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def test_our_chrome_extension_is_allowed(self):
        rep, hello = self.run_host(["chrome-extension://bnmdnnfnpiijlnoabddbmgcfkcfcmknl/"])
        self.assertIn("result", rep)
        self.assertTrue(hello["caller_allowed"])

    def test_our_firefox_addon_is_allowed(self):
        rep, _ = self.run_host(["/home/x/.mozilla/native-messaging-hosts/org.bantrail.host.json",
                                "bantrail@bantrail.org"])
        self.assertIn("result", rep)

    def test_another_extension_is_refused(self):
        rep, hello = self.run_host(["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"])
        self.assertEqual(rep["error"]["code"], "caller_not_allowed")
        self.assertFalse(hello["caller_allowed"])

    def test_a_refused_caller_learns_nothing_of_the_log_and_is_logged_escaped(self):
        seen = {}

        def look(home):
            seen["files"] = sorted(os.listdir(home))
            with open(os.path.join(home, "host.log"), "rb") as f:
                seen["log"] = f.read()

        rep, hello = self.run_host(["chrome-extension://evil\x1b[2J\nforged line/"], look)
        self.assertEqual(rep["error"]["code"], "caller_not_allowed")
        self.assertEqual(hello["vault"], {"state": "error", "error": "caller_not_allowed"})
        self.assertNotIn("log.sqlite", seen["files"])  # not even created
        self.assertIn(b"caller not allowed: chrome-extension://evil?[2J?forged line/", seen["log"])
        for line in seen["log"].splitlines():  # no line of the caller's making
            self.assertRegex(line, rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[\d+\] ")
        # the allowed caller, beside it, gets the log
        _, hello = self.run_host(["chrome-extension://bnmdnnfnpiijlnoabddbmgcfkcfcmknl/"])
        self.assertIn("public_key", hello["vault"])

    def test_another_firefox_addon_is_refused(self):
        rep, _ = self.run_host(["/tmp/manifest.json", "evil@example.org"])
        self.assertEqual(rep["error"]["code"], "caller_not_allowed")


class Storage(HostTest):
    def test_a_corrupt_database_gets_an_error_and_the_host_serves(self):
        self.host.close()
        with open(os.path.join(self.home, "log.sqlite"), "wb") as f:
            f.write(b"garbage " * 1000)
        self.host = Host(self.home)
        hello = self.host.ok("hello")
        self.assertEqual(hello["vault"]["state"], "error")
        self.assertEqual(self.error(self.host.call("capture", NOTICE)), "corrupt")
        self.assertEqual(self.host.ok("hello")["protocol"], 1)

    def test_files_hold_no_notice_in_clear(self):
        marker = "QUOKKA-MARKER-5521"
        for _ in range(20):
            self.host.ok("capture", dict(NOTICE, text=marker, title=marker, url=f"https://{marker}.example/"))
        stored = [self.host.ok("capture", dict(NOTICE, text=f"{NOTICE['text']} {marker} {i}", title=marker,
                                               url=f"{NOTICE['url']}?{marker}"))["id"] for i in range(5)]
        self.host.ok("get", {"id": stored[0]})  # the index holds their summaries (title and url)...
        self.host.close()  # ...and its snapshot is written as the host ends
        self.assertTrue(os.path.exists(os.path.join(self.home, "log.sqlite-index-entries")))
        self.host = Host(self.home)
        for name in os.listdir(self.home):
            with open(os.path.join(self.home, name), "rb") as f:
                self.assertNotIn(marker.encode(), f.read(), name)
        db = sqlite3.connect(os.path.join(self.home, "log.sqlite"))
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        db.close()


if __name__ == "__main__":
    unittest.main(verbosity=1)
