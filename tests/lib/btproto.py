"""Speaks the native messaging protocol to a real bantrail-host process."""
import json
import os
import struct
import subprocess
import shutil
import tempfile
import unittest

BUILD = os.environ.get("BT_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
HOST = os.path.join(BUILD, "bantrail-host")
CLI = os.path.join(BUILD, "bantrail")
EXTENSION_ORIGIN = "chrome-extension://bnmdnnfnpiijlnoabddbmgcfkcfcmknl/"


def frame(obj_or_bytes):
    body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    return struct.pack("=I", len(body)) + body


class Host:
    """One bantrail-host, started as a browser would start it."""

    def __init__(self, home, args=(EXTENSION_ORIGIN,), env=None, preexec=None):
        e = dict(os.environ, BANTRAIL_HOME=home)
        if env:
            e.update(env)
        self.proc = subprocess.Popen([HOST, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=e, preexec_fn=preexec)
        self.next_id = 0

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self):
        head = self.proc.stdout.read(4)
        if len(head) < 4:
            return None
        (n,) = struct.unpack("=I", head)
        assert n <= 1024 * 1024, f"outbound frame of {n} bytes"
        body = self.proc.stdout.read(n)
        if len(body) < n:  # the host died mid-frame
            return None
        return json.loads(body)

    def call(self, method, params=None, **kw):
        """Sends a request and returns the whole reply."""
        self.next_id += 1
        req = {"id": self.next_id, "method": method}
        if params is not None:
            req["params"] = params
        self.send_raw(frame(req))
        rep = self.read()
        assert rep is not None and rep["id"] == self.next_id, rep
        return rep

    def ok(self, method, params=None):
        rep = self.call(method, params)
        assert "result" in rep, rep
        return rep["result"]

    def set_passphrase(self, params):
        """A passphrase change in its two steps (set, then confirm); returns the confirmation."""
        assert self.ok("set_passphrase", params)["pending"] is True
        return self.ok("set_passphrase", {"confirm": True})

    def close(self):
        self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def new_home():
    return tempfile.mkdtemp(prefix="bt-home-")


def cli(home, *args, passphrase=None, stdin=None):
    """Runs the CLI; a passphrase goes through --passphrase-fd."""
    env = dict(os.environ, BANTRAIL_HOME=home)
    pass_fds = ()
    cmd = [CLI]
    r = w = None
    if passphrase is not None:
        r, w = os.pipe()
        os.write(w, (passphrase if isinstance(passphrase, str) else "\n".join(passphrase)).encode() + b"\n")
        os.close(w)
        cmd += ["--passphrase-fd", str(r)]
        pass_fds = (r,)
    try:
        return subprocess.run(cmd + list(args), input=stdin, capture_output=True, env=env,
                              pass_fds=pass_fds, timeout=120)
    finally:
        if r is not None:
            os.close(r)


class HostTest(unittest.TestCase):
    """A test with its own throwaway log and one host started on it."""

    def setUp(self):
        self.home = new_home()
        self.host = Host(self.home)

    def tearDown(self):
        if self.host.proc.poll() is None:
            self.host.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def error(self, rep):
        """The error code of a reply that must be an error."""
        self.assertIn("error", rep, rep)
        self.assertNotIn("result", rep)
        return rep["error"]["code"]
