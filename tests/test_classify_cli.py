"""`bantrail classify`: the classifier on stdin's text. Exit 0 for a notice,
1 for not a notice, 2 for an error; --json prints the documented fields;
no log is opened or created."""
import json
import os
import shutil
import unittest

from btproto import cli, new_home


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


if __name__ == "__main__":
    unittest.main()
