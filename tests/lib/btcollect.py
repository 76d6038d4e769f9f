"""Runs the real bantrail-collect for the collector's tests (collect/): its
commands with the passphrase through --passphrase-fd, and `serve` on a free
loopback port."""
import os
import subprocess

from btproto import BUILD

COLLECT = os.path.join(BUILD, "bantrail-collect")
FORGE = os.path.join(BUILD, "tests", "report_forge")


def run(args, passphrase=None, **kw):
    """Runs bantrail-collect --dir args...; the passphrase goes through --passphrase-fd."""
    fds = ()
    if passphrase is not None:
        r, w = os.pipe()
        os.write(w, (passphrase + "\n").encode())
        os.close(w)
        fds = (r,)
        args = [args[0], *args[1:2], "--passphrase-fd", str(r), *args[2:]]
    try:
        return subprocess.run([COLLECT, "--dir", *args], capture_output=True, text=True, pass_fds=fds,
                              timeout=60, **kw)
    finally:
        for fd in fds:
            os.close(fd)


def serve(directory, passphrase):
    """Starts `serve` on directory at any free port: (the process, its port)."""
    r, w = os.pipe()
    os.write(w, (passphrase + "\n").encode())
    os.close(w)
    proc = subprocess.Popen([COLLECT, "--dir", directory, "serve", "--passphrase-fd", str(r), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=(r,))
    os.close(r)
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read()
    return proc, int(line.rsplit(":", 1)[1].split("/")[0])
