"""`bantrail classify`: the classifier on stdin's text. Exit 0 for a notice,
1 for not a notice, 2 for an error; --json prints the documented fields and
the evidence; no log is opened or created."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from btproto import BUILD, cli, new_home

RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "extension", "rules", "rules.json")


class Classify(unittest.TestCase):
    def setUp(self):
        self.home = new_home()

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def run_classify(self, text, *args):
        return cli(self.home, *args, "classify", stdin=text.encode())

    def test_a_notice_exits_0_with_the_documented_json(self):
        out = self.run_classify("We suspended your account on October 31, 2022. There are 30 days remaining "
                                "to disagree with this decision.",
                                "--json", "--url", "https://www.instagram.com/accounts/suspended/", "--lang", "en")
        self.assertEqual(out.returncode, 0, out.stderr)
        r = json.loads(out.stdout)
        self.assertEqual(set(r) >= {"notice", "platform", "kind", "reason", "lang", "facts"}, True)
        self.assertIs(r["notice"], True)
        self.assertEqual((r["platform"], r["kind"], r["lang"]), ("instagram", "suspension", "en"))
        self.assertIsNone(r["reason"])
        self.assertEqual(r["facts"]["dates"], ["2022-10-31"])
        self.assertEqual(r["facts"]["days_left"], 30)

    def test_the_evidence_says_what_the_decision_was_made_from(self):
        r = json.loads(self.run_classify("We suspended your account. Learn more.", "--json").stdout)
        self.assertEqual(r["evidence"]["concept_full"], 1)
        self.assertNotIn("negated", r["evidence"])
        r = json.loads(self.run_classify("Your account is not suspended. All good!", "--json").stdout)
        self.assertIs(r["notice"], False)
        self.assertEqual(r["evidence"]["negated"], 1)
        self.assertNotIn("concept_full", r["evidence"])
        out = self.run_classify("Your account is not suspended. All good!")
        self.assertIn(b"Evidence:  ", out.stdout)
        self.assertIn(b" negated 1", out.stdout)

    def test_a_news_story_exits_1(self):
        out = self.run_classify("Many users reported that their accounts were suspended on Monday, "
                                "according to the company.", "--json")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIs(json.loads(out.stdout)["notice"], False)

    def test_the_title_is_read_and_people_get_plain_text(self):
        out = self.run_classify("Try again later.", "--title", "Action Blocked")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"Kind:      action_blocked", out.stdout)
        out = self.run_classify("Sunny spells and a light breeze this afternoon. " * 10, "--title", "Weather")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"Notice:    no", out.stdout)

    def test_a_bad_option_exits_2_and_no_log_is_created(self):
        self.assertEqual(cli(self.home, "classify", "--no-such-option", stdin=b"x").returncode, 2)
        self.run_classify("Your account has been disabled.")
        self.assertFalse(any(n.endswith(".sqlite") for n in os.listdir(self.home)))


class RulesCheck(unittest.TestCase):
    """bt_rules_check, which the build runs on the rules file: the line and the reason."""

    def check(self, text):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "rules.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return subprocess.run([os.path.join(BUILD, "bt_rules_check"), path], capture_output=True, text=True)

    def test_the_rules_file_passes_and_a_broken_one_is_refused_with_line_and_reason(self):
        with open(RULES, encoding="utf-8") as f:
            good = f.read()
        self.assertEqual(self.check(good).returncode, 0)
        out = self.check(good.replace('"scoring": {', '"scoring": {\n    "phrse": 3,', 1))
        line = good[:good.index('"scoring": {')].count("\n") + 2
        self.assertEqual(out.returncode, 1)
        self.assertIn(f":{line}: scoring: unknown key \"phrse\"", out.stderr)
        out = self.check(good.replace('"version": 1,', '"version": 1,,', 1))
        self.assertEqual(out.returncode, 1)
        self.assertIn("line 2", out.stderr)
        out = self.check(good.replace('"kinds": {', '"kinds": {"banned": {"en": ["x"]},', 1))
        self.assertEqual(out.returncode, 1)
        self.assertIn("kind_priority", out.stderr)

    def test_a_rules_file_over_2_mb_is_refused(self):
        with open(RULES, encoding="utf-8") as f:
            good = f.read()
        self.assertLess(len(good.encode("utf-8")), 2_000_000)
        out = self.check(good.replace("\n", "\n" + " " * 2_000_000, 1))
        self.assertEqual(out.returncode, 1)
        self.assertIn("over the 2000000 a rules file may weigh", out.stderr)


if __name__ == "__main__":
    unittest.main()
