"""One client must not stall bantrail-collect serve (issue 13, items 3 and
4): slow clients and the per-address report rate, over real sockets on
loopback. Linux routes all of 127.0.0.0/8 to the
loopback, so binding the client end to 127.0.0.2, 127.0.0.3, ... makes
"other addresses" without a network.

Figures are printed; bounds on time are generous (a busy machine, the
sanitized build): they tell "cut by the deadline" from "never cut", not
fractions of a second."""
import http.client
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from btcollect import COLLECT, FORGE, argv
PASS = "union passphrase 1"
DIFFICULTY = 8
HEADER = b"POST /v1/reports HTTP/1.1\r\nHost: union.example\r\n"


def figure(text):
    print(f"  figure: {text}", file=sys.stderr, flush=True)


class Server:
    """A bantrail-collect serve with the given limits, on a free port."""

    def __init__(self, directory, *flags):
        r, w = os.pipe()
        os.write(w, (PASS + "\n").encode())
        os.close(w)
        self.proc = subprocess.Popen(argv(directory, "serve", "--passphrase-fd", str(r), "--port", "0", *flags),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     pass_fds=(r,))
        os.close(r)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + self.proc.stderr.read()
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert self.proc.returncode == 0, err


def slow_socket(port, source):
    """A connection from source that has sent the start of a request."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(HEADER)
    s.setblocking(False)
    return s


def closed_by_server(s):
    """True when the server has closed or reset s (never blocks)."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(4096) == b""  # a reply would be data; the cut is the end of the stream
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


def drip(s):
    """One more byte of an endless header; False when the server cut s."""
    try:
        s.send(b"x")
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False
    except BlockingIOError:
        return True


class SlowClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bt-collect-limits-")
        r, w = os.pipe()
        os.write(w, (PASS + "\n").encode())
        os.close(w)
        out = subprocess.run([*argv(cls.dir), "keygen", "--passphrase-fd", str(r), "--kdf", "interactive",
                              "--difficulty", str(DIFFICULTY)], capture_output=True, text=True, pass_fds=(r,),
                             timeout=60)
        os.close(r)
        assert out.returncode == 0, out.stderr
        cls.pk = json.loads(out.stdout)["public_key"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def serve(self, *flags):
        server = Server(self.dir, *flags)
        self.addCleanup(server.stop)
        return server

    def forge(self):
        out = subprocess.run([FORGE, "--pk", self.pk, "--difficulty", str(DIFFICULTY)], capture_output=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def post(self, port, source="127.0.0.1", body=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
        try:
            c.request("POST", "/v1/reports", body=body if body is not None else self.forge())
            r = c.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data else None), dict(r.getheaders())
        finally:
            c.close()

    def test_slow_clients_from_one_address_neither_stall_others_nor_stay(self):
        server = self.serve("--per-address", "4", "--idle-timeout", "3", "--request-timeout", "6")
        body = self.forge()  # sealed beforehand: the time below is the collector's
        started = time.monotonic()
        socks = [slow_socket(server.port, "127.0.0.2") for _ in range(40)]
        # The per-address limit: all but 4 are closed at once.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(closed_by_server(s) for s in socks) < 36:
            time.sleep(0.1)
        alive = [s for s in socks if not closed_by_server(s) and drip(s)]
        for s in socks:
            if s not in alive:
                s.close()
        figure(f"40 connections from 127.0.0.2: {len(alive)} kept open (--per-address 4)")
        self.assertEqual(len(alive), 4)

        # A real submission from another address while those hang.
        t0 = time.monotonic()
        status, reply, _ = self.post(server.port, "127.0.0.1", body)
        took = time.monotonic() - t0
        figure(f"a real report from 127.0.0.1 while they hang: HTTP {status} in {took * 1000:.0f} ms")
        self.assertEqual(status, 202, reply)
        self.assertTrue(all(not closed_by_server(s) for s in alive), "the slow ones were cut before the report")

        # A byte a second defeats the idle timeout (3 s), not the deadline (6 s).
        lived = {}
        while len(lived) < len(alive) and time.monotonic() - started < 60:
            for s in alive:
                if s not in lived and (closed_by_server(s) or not drip(s)):
                    lived[s] = time.monotonic() - started
            time.sleep(1)
        figure("slow connections cut after " + ", ".join(f"{t:.1f}" for t in sorted(lived.values()))
               + " s (--idle-timeout 3 --request-timeout 6, a byte a second)")
        for s in alive:
            s.close()
        self.assertEqual(len(lived), 4, "a slow-loris connection was never cut")
        for t in lived.values():
            self.assertGreater(t, 3.5)  # they outlived the idle timeout: the deadline cut them
            self.assertLess(t, 40)

    def test_normal_clients_are_not_refused(self):
        server = self.serve("--per-address", "4")
        results = []

        def one():
            results.append(self.post(server.port, "127.0.0.3")[0])

        threads = [threading.Thread(target=one) for _ in range(4)]  # as many at once as allowed
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [202] * 4)
        # The limit counts open connections, not requests: one after another, any number.
        statuses = [self.post(server.port, "127.0.0.3")[0] for _ in range(12)]
        self.assertEqual(statuses, [202] * 12)
        figure("4 reports at once, then 12 in a row, from one address: all 202")

    def test_on_loopback_the_per_address_limits_are_off_by_default(self):
        # Behind the union's front every connection comes from the front's address.
        server = self.serve()
        results = []

        def one():
            results.append(self.post(server.port, "127.0.0.7")[0])

        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = [self.post(server.port, "127.0.0.7")[0] for _ in range(25)]
        self.assertEqual(results + statuses, [202] * 37)
        figure("default serve on loopback: 12 reports at once and 25 in a row from one address, all 202")

    def test_the_report_rate_per_address_answers_429_and_spares_others(self):
        server = self.serve("--reports-per-minute", "6", "--burst", "3")
        self.assertEqual([self.post(server.port, "127.0.0.4")[0] for _ in range(3)], [202] * 3)
        status, reply, headers = self.post(server.port, "127.0.0.4")
        self.assertEqual(status, 429, reply)
        self.assertEqual(reply["error"]["code"], "too_many_reports")
        self.assertIn(int(headers["Retry-After"]), range(1, 12))  # one token every 10 s
        figure(f"4th report within the burst of 3 at 6 a minute: HTTP 429, Retry-After {headers['Retry-After']}")
        # Refused bodies cost no token; other addresses are not held back.
        self.assertEqual([self.post(server.port, "127.0.0.5", b"not a report")[0] for _ in range(5)], [400] * 5)
        self.assertEqual([self.post(server.port, "127.0.0.5")[0] for _ in range(3)], [202] * 3)
        self.assertEqual(self.post(server.port, "127.0.0.6")[0], 202)

    def test_a_full_collector_says_503_with_retry_after_and_recovers(self):
        server = self.serve("--max-connections", "24", "--per-address", "4", "--request-timeout", "5")
        socks = [slow_socket(server.port, f"127.0.1.{a}") for a in range(1, 7) for _ in range(4)]  # 24 in all
        time.sleep(0.5)
        self.assertFalse(any(closed_by_server(s) for s in socks))
        status, reply, headers = self.post(server.port, "127.0.0.9", b"x")
        self.assertEqual(status, 503, reply)
        self.assertEqual(reply["error"]["code"], "busy")
        self.assertEqual(headers.get("Retry-After"), "5")
        figure("25th connection with --max-connections 24: HTTP 503, Retry-After 5")
        t0 = time.monotonic()
        while not all(closed_by_server(s) for s in socks) and time.monotonic() - t0 < 40:
            time.sleep(0.2)
        for s in socks:
            s.close()
        self.assertEqual(self.post(server.port, "127.0.0.9")[0], 202)
        figure(f"after the slow ones were cut ({time.monotonic() - t0:.1f} s later): HTTP 202")

    def test_a_silent_connection_is_cut_after_the_idle_timeout(self):
        server = self.serve("--idle-timeout", "2", "--request-timeout", "60")
        s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        t0 = time.monotonic()
        try:
            self.assertEqual(s.recv(1), b"")
        except ConnectionResetError:
            pass
        took = time.monotonic() - t0
        s.close()
        figure(f"a connection that sends nothing, --idle-timeout 2: cut after {took:.1f} s")
        self.assertLess(took, 30)

    def test_limits_are_checked_and_documented(self):
        for flag, value in (("--per-address", "x"), ("--max-connections", "0"), ("--idle-timeout", "0"),
                            ("--request-timeout", "-1"), ("--max-connections", "100001"),
                            ("--reports-per-minute", "1.5"), ("--burst", "0")):
            out = subprocess.run(argv(self.dir, "serve", flag, value), capture_output=True, text=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 2, (flag, value))
            self.assertIn(flag, out.stderr)
        out = subprocess.run([COLLECT, "serve", "--help"], capture_output=True, text=True, timeout=30)
        for flag in ("--max-connections", "--per-address", "--idle-timeout", "--request-timeout", "--max-body",
                     "--reports-per-minute", "--burst"):
            self.assertIn(flag, out.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
