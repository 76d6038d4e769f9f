"""Several `serve` processes on one store (docs/ADMIN.md): what keeps
replays, updates and withdrawals exact is the database (its keys and
transactions), not a receiver's memory. Three real receivers on one store
(PostgreSQL under BT_STORE=postgresql, the SQLite file otherwise), real HTTP;
kill -9 of receivers while reports arrive; a wrong store address; the
database stopped under the receivers."""
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from btcollect import FORGE, STORE, argv, cluster, columns, query, run, scalar, serve, store_address

PASS = "union passphrase 1"


class Receivers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-receivers-")
        out = run([self.dir, "keygen", "--kdf", "interactive", "--difficulty", "8"], passphrase=PASS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.pk = json.loads(out.stdout)["public_key"]
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            p.stdout.close()
            p.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def receiver(self):
        proc, port = serve(self.dir, PASS)
        self.procs.append(proc)
        return proc, port

    def forge(self, *args):
        out = subprocess.run([FORGE, "--pk", self.pk, "--difficulty", "8", *args], capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def post(self, port, body, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("POST", "/v1/reports", body=body)
            r = c.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data else None), dict(r.getheaders())
        finally:
            c.close()

    def at_once(self, sends):
        """Posts each (port, body) from its own thread, released together: the statuses."""
        gate = threading.Barrier(len(sends))

        def one(port, body):
            gate.wait()
            return self.post(port, body)[0]
        with concurrent.futures.ThreadPoolExecutor(len(sends)) as pool:
            return [f.result() for f in [pool.submit(one, p, b) for p, b in sends]]

    def stored_ids(self):
        # 'x' || hex: text that query() keeps as text
        return {r[0][1:] for r in query(self.dir, "SELECT 'x' || lower(hex(id)) FROM reports" if STORE == "sqlite"
                                        else "SELECT 'x' || encode(id, 'hex') FROM reports")}

    # ---- the same report at two receivers at once ----

    def test_the_same_report_sent_to_two_receivers_at_once_is_stored_once(self):
        ports = [self.receiver()[1] for _ in range(3)]
        rounds = 25
        for i in range(rounds):
            body = self.forge("--id", f"{i:032x}")
            a, b = random.sample(ports, 2)
            self.assertEqual(sorted(self.at_once([(a, body), (b, body)])), [202, 409], i)
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), rounds)
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM seen"), rounds)
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM owners"), rounds)
        # the negative case: two different reports at once are both stored
        self.assertEqual(self.at_once([(ports[0], self.forge()), (ports[1], self.forge())]), [202, 202])
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), rounds + 2)

    def test_updates_and_withdrawals_stay_the_senders_across_receivers(self):
        ports = [self.receiver()[1] for _ in range(3)]
        rid, seed = os.urandom(16).hex(), os.urandom(32).hex()
        status, reply, _ = self.post(ports[0], self.forge("--id", rid, "--seed", seed, "--platform", "reddit"))
        self.assertEqual((status, reply["updated"]), (202, False))
        # the sender's update at another receiver
        status, reply, _ = self.post(ports[1], self.forge("--id", rid, "--seed", seed, "--platform", "twitch"))
        self.assertEqual((status, reply["updated"]), (202, True))
        # a stranger's update and withdrawal at a third: refused, nothing changes
        status, reply, _ = self.post(ports[2], self.forge("--id", rid, "--platform", "x"))
        self.assertEqual((status, reply["error"]["code"]), (403, "not_owner"))
        status, reply, _ = self.post(ports[2], self.forge("--id", rid, "--withdraw"))
        self.assertEqual((status, reply["error"]["code"]), (403, "not_owner"))
        figures = json.loads(run([self.dir, "report"]).stdout)
        self.assertEqual(figures["by_platform"], {"twitch": 1})
        # a stranger's first report and the sender's update of another id, at once: the id is whoever came first
        rid2 = os.urandom(16).hex()
        statuses = self.at_once([(ports[0], self.forge("--id", rid2, "--seed", seed)),
                                 (ports[1], self.forge("--id", rid2))])
        self.assertEqual(sorted(statuses), [202, 403])
        # the sender's updates of one id at two receivers at once: both taken, one report
        statuses = self.at_once([(ports[1], self.forge("--id", rid, "--seed", seed, "--platform", "youtube")),
                                 (ports[2], self.forge("--id", rid, "--seed", seed, "--platform", "threads"))])
        self.assertEqual(statuses, [202, 202])
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), 2)
        # the sender's withdrawal at the third receiver
        status, reply, _ = self.post(ports[2], self.forge("--id", rid, "--seed", seed, "--withdraw"))
        self.assertEqual((status, reply["status"]), (202, "withdrawn"))
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), 1)
        status, reply, _ = self.post(ports[0], self.forge("--id", rid, "--withdraw"))  # still the sender's
        self.assertEqual(status, 403)

    # ---- kill -9 ----

    def test_kill_9_of_receivers_mid_request_loses_no_acknowledged_report(self):
        live = [self.receiver() for _ in range(3)]
        lock = threading.Lock()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            names = [f"{i:032x}" for i in range(800)]
            bodies = dict(zip(names, pool.map(lambda rid: self.forge("--id", rid), names)))
        queue, taken, acked, answers = list(names), [], set(), {}
        kills_wanted, done = 6, threading.Event()

        def sender():
            while True:
                with lock:
                    if done.is_set() or not queue:
                        return
                    rid = queue.pop()
                    taken.append(rid)
                time.sleep(random.uniform(0, 0.05))  # senders spread out, as people are
                while True:  # as a sender does: again after a broken connection, until an answer
                    with lock:
                        port = random.choice(live)[1]
                    try:
                        status = self.post(port, bodies[rid], timeout=10)[0]
                    except (OSError, http.client.HTTPException):
                        continue
                    if status in (202, 409):
                        with lock:
                            answers[rid] = status
                            if status == 202:
                                acked.add(rid)
                        break
                    self.assertEqual(status, 503)  # busy: again

        left_at_kills = []

        def killer():  # each kill mid-traffic however fast the machine: after each eighth of the reports
            for j in range(kills_wanted):
                mark = (j + 1) * len(names) // (kills_wanted + 2) + random.randrange(20)
                while True:
                    with lock:
                        if len(taken) >= mark or not queue:
                            break
                    time.sleep(0.005)
                with lock:
                    i = random.randrange(len(live))
                    live[i][0].kill()  # SIGKILL, whatever it is doing
                    left_at_kills.append(len(queue))
                proc, port = self.receiver()
                with lock:
                    live[i] = (proc, port)
            done.set()

        with concurrent.futures.ThreadPoolExecutor(7) as pool:
            k = pool.submit(killer)
            senders = [pool.submit(sender) for _ in range(6)]
            k.result()
            for f in senders:
                f.result()
        print(f"{kills_wanted} receivers killed with SIGKILL during {len(taken)} reports; "
              f"{len(acked)} answered 202, {len(answers) - len(acked)} 409 (stored by a killed try)")
        self.assertTrue(all(left_at_kills), f"a kill came after the last report was taken: {left_at_kills}")
        stored = self.stored_ids()
        self.assertEqual(acked - stored, set(), "an acknowledged report is missing")
        self.assertEqual(stored, set(taken))  # each answered 202 or 409: each stored, once
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM seen"), len(taken))

    # ---- bad input ----

    def test_a_wrong_store_address_is_a_clear_error(self):
        cases = (
            ("postgresql://bantrail:s3cretpw@/nodb?host=/nonexistent-folder&port=1", "cannot connect to PostgreSQL"),
            ("postgresql:///nodb?sslmode=bogus", "sslmode"),
        )
        for address, said in cases:
            out = subprocess.run([*argv(self.dir)[:3], "--store", address, "report"], capture_output=True,
                                 text=True, timeout=60)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn("cannot open the store given by --store", out.stderr)
            self.assertIn(said, out.stderr)
            self.assertNotIn("s3cretpw", out.stderr)
        out = subprocess.run([*argv(self.dir)[:3], "--store", "mysql://x/y", "report"], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--store: a postgresql:// address", out.stderr)
        # a receiver that cannot reach its store does not start
        r, w = os.pipe()
        os.write(w, (PASS + "\n").encode())
        os.close(w)
        out = subprocess.run([*argv(self.dir)[:3], "--store", cases[0][0], "serve", "--passphrase-fd", str(r),
                              "--port", "0"], capture_output=True, text=True, timeout=60, pass_fds=(r,))
        os.close(r)
        self.assertEqual(out.returncode, 2)
        self.assertIn("cannot connect to PostgreSQL", out.stderr)
        self.assertNotIn("listening", out.stdout)

    def test_the_database_gone_mid_ingest_is_503_and_loses_nothing_acknowledged(self):
        if STORE != "postgresql":
            self.skipTest("a database server that goes away: PostgreSQL's run (collect_receivers_pg) tests it")
        pg = cluster()
        ports = [self.receiver()[1] for _ in range(2)]
        self.assertEqual(self.post(ports[0], self.forge())[0], 202)
        bodies = [self.forge("--id", f"{i:032x}") for i in range(120)]
        results = {}

        def send_all():
            for i, body in enumerate(bodies):
                time.sleep(0.02)  # a steady trickle, before, during and after the outage
                try:
                    results[i] = self.post(ports[i % 2], body, timeout=20)
                except (OSError, http.client.HTTPException) as e:
                    results[i] = (None, str(e), {})

        t = threading.Thread(target=send_all)
        t.start()
        time.sleep(0.3)
        pg.stop("immediate")  # the database server goes away mid-ingest, as a crash would
        time.sleep(1.0)
        # while it is gone: 503 with Retry-After, never a 202
        status, reply, headers = self.post(ports[0], self.forge())
        self.assertEqual((status, reply["error"]["code"]), (503, "busy"), reply)
        self.assertIn("Retry-After", headers)
        pg.start()
        t.join(timeout=300)
        statuses = [results[i][0] for i in range(len(bodies))]
        self.assertIn(503, statuses)
        acked = {f"{i:032x}" for i, s in enumerate(statuses) if s == 202}
        self.assertTrue(acked)
        self.assertEqual(acked - self.stored_ids(), set(), "an acknowledged report was lost")
        # the receivers came back on their own: the refused ones go through now (as their senders retry)
        for i, s in enumerate(statuses):
            if s != 202:
                self.assertIn(self.post(ports[i % 2], bodies[i])[0], (202, 409))
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), len(bodies) + 1)


    def test_a_full_disk_on_the_database_server_is_503_and_loses_nothing_acknowledged(self):
        if STORE != "postgresql":
            self.skipTest("the database server's disk: PostgreSQL's run (collect_receivers_pg) tests it")
        pg = cluster()
        port = self.receiver()[1]
        self.assertEqual(self.post(port, self.forge())[0], 202)  # the tables, and a row to copy
        db = store_address(self.dir).split("?")[0].rsplit("/", 1)[1]
        pg.stop("fast")
        pg.start(file_size_limit=4 << 20)  # no file of the server grows past 4 MiB: its disk is full there
        statuses, bodies = [], []
        try:
            # the reports table filled to the limit with copies of that row under other ids
            cols = ", ".join(c for c in columns(self.dir, "reports") if c != "id")
            for batch in range(100):
                try:
                    pg.psql(db, f"INSERT INTO reports (id, {cols}) SELECT decode(md5('{batch}-' || g), 'hex'), "
                                f"{cols} FROM generate_series(1, 2000) g, (SELECT {cols} FROM reports LIMIT 1) r")
                except RuntimeError as e:
                    self.assertRegex(str(e), "could not extend|File too large", "the disk, not something else")
                    break
            else:
                self.fail("the limit never reached")
            filled = scalar(self.dir, "SELECT count(*) FROM reports")
            for i in range(400):  # senders go on sending
                bodies.append(self.forge("--id", f"{i:032x}"))
                status, reply, headers = self.post(port, bodies[-1])
                statuses.append(status)
                if status == 503:
                    self.assertEqual(reply["error"]["code"], "busy", reply)
                    self.assertIn("Retry-After", headers)
                if statuses.count(503) >= 3:
                    break
            self.assertIn(503, statuses, "a full disk is 503 (retry later), never a 202 for a report not stored")
            self.assertNotIn(500, statuses)
            acked = {f"{i:032x}" for i, s in enumerate(statuses) if s == 202}
            self.assertEqual(acked - self.stored_ids(), set(), "an acknowledged report was lost")
        finally:
            pg.stop("fast")
            pg.start()  # space again
        # the receiver serves on: what was refused goes through as its senders retry
        for i, s in enumerate(statuses):
            if s != 202:
                self.assertEqual(self.post(port, bodies[i])[0], 202)
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), filled + len(bodies))

    def test_a_receiver_with_the_least_rights_of_docs_admin_serves(self):
        if STORE != "postgresql":
            self.skipTest("database roles: PostgreSQL's run (collect_receivers_pg) tests them")
        self.assertEqual(run([self.dir, "report"]).returncode, 0)  # the owner makes the tables
        address = store_address(self.dir)
        db = address.split("?")[0].rsplit("/", 1)[1]
        role = "r_" + os.urandom(4).hex()
        # the grants of docs/ADMIN.md section 2, as written there
        cluster().psql(db, f"""CREATE ROLE {role} LOGIN;
            GRANT SELECT, INSERT, UPDATE, DELETE ON reports TO {role};
            GRANT SELECT, INSERT ON seen, owners, spent TO {role};
            GRANT SELECT, UPDATE ON invites TO {role};
            GRANT SELECT, INSERT, UPDATE ON tallies TO {role};""")
        limited = address.replace("user=bantrail", f"user={role}")

        def start():
            r, w = os.pipe()
            os.write(w, (PASS + "\n").encode())
            os.close(w)
            proc = subprocess.Popen([*argv(self.dir)[:3], "--store", limited, "serve", "--passphrase-fd", str(r),
                                     "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    pass_fds=(r,))
            os.close(r)
            self.procs.append(proc)
            return proc, proc.stdout.readline()
        proc, line = start()
        if not line.startswith("listening on"):
            self.fail(line + proc.stderr.read())
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        rid, seed = os.urandom(16).hex(), os.urandom(32).hex()
        self.assertEqual(self.post(port, self.forge("--id", rid, "--seed", seed))[0], 202)
        self.assertEqual(self.post(port, self.forge("--id", rid, "--seed", seed, "--platform", "x"))[0], 202)
        self.assertEqual(self.post(port, self.forge("--id", rid, "--seed", seed, "--withdraw"))[0], 202)
        self.assertEqual(self.post(port, self.forge())[0], 202)
        self.assertEqual(scalar(self.dir, "SELECT count(*) FROM reports"), 1)
        # and that role can change nothing else
        for sql in ("DROP TABLE reports", "DELETE FROM owners", "DELETE FROM seen", "CREATE TABLE t(x int)",
                    "ALTER TABLE reports ADD COLUMN ip text"):
            out = subprocess.run([os.path.join(pgcluster_bin(), "psql"), "-X", "-d", limited, "-c", sql],
                                 capture_output=True, text=True, timeout=60)
            self.assertNotEqual(out.returncode, 0, sql)
            self.assertRegex(out.stderr, "permission denied|must be owner", sql)
        # an upgrade that needs a new column (docs/ADMIN.md "After upgrading"): the receiver cannot add
        # it and refuses to start, saying so; once the owner has run a command, it starts
        proc.terminate()
        proc.wait(timeout=10)
        cluster().psql(db, "ALTER TABLE reports DROP COLUMN keywords_hi")
        proc, line = start()
        self.assertEqual(proc.wait(timeout=30), 2, line)
        self.assertIn("tables cannot be used", proc.stderr.read())
        self.assertEqual(run([self.dir, "report"]).returncode, 0)  # the owner
        proc, line = start()
        self.assertTrue(line.startswith("listening on"), line)
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.assertEqual(self.post(port, self.forge())[0], 202)


def pgcluster_bin():
    import pgcluster
    return pgcluster.BIN


if __name__ == "__main__":
    unittest.main(verbosity=2)
