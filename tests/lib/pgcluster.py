"""A throwaway PostgreSQL cluster for the collector's tests, from Debian's
`postgresql` package (.ci/setup installs it): initdb in a temporary folder,
its own port, its Unix socket in that folder and no TCP listener; stopped and
removed afterwards. initdb refuses to run as root, so under root (CI) the
cluster belongs to `nobody` and the folder is handed to it.

Nothing is skipped: without PostgreSQL, Cluster() raises and the test fails.

A test killed outside its own hands (kill -9, a ctest timeout) leaves no server
behind: each cluster has a watchdog, a process of its own session that stops
and removes the cluster once the process that made it is gone.

As a program it wraps a command (the C tests):
    python3 pgcluster.py COMMAND ARGS...
runs COMMAND with BT_PG_HOST (the socket folder), BT_PG_PORT and BT_PG_USER
set for a fresh cluster, and exits with its code."""
import os
import pwd
import random
import shutil
import subprocess
import signal
import sys
import tempfile
import time

BIN = "/usr/lib/postgresql/15/bin"
USER = "bantrail"


class Cluster:
    def __init__(self):
        if not os.path.exists(os.path.join(BIN, "initdb")):
            raise RuntimeError(f"PostgreSQL 15 is not installed ({BIN}/initdb missing): "
                               "apt install postgresql (.ci/setup does)")
        self.root = tempfile.mkdtemp(prefix="bt-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = random.randint(20000, 60000)
        self.as_owner = []
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self.as_owner = ["runuser", "-u", "nobody", "--"]
        self.watchdog = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--watch", str(os.getpid()),
                                          self.root, self.data, *self.as_owner], start_new_session=True,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd="/")
        self._owner([os.path.join(BIN, "initdb"), "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8",
                     "--no-sync", "--no-instructions", "--wal-segsize=1"])
        self.start()

    def _owner(self, args):
        out = subprocess.run(self.as_owner + args, capture_output=True, text=True, timeout=120, cwd="/")
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {out.stdout}{out.stderr}")
        return out

    def start(self, file_size_limit=None):
        """Starts (or starts again) the server; waits until it accepts connections.
        With file_size_limit (bytes), no file of the server grows past it: a
        full disk as the server meets it (PostgreSQL ignores SIGXFSZ, so a write
        past it fails, "could not extend file"). WAL segments are 1 MB
        (initdb above) so that a limit of a few MB leaves room for them."""
        opts = f"-p {self.port} -k {self.root} -c listen_addresses='' -c max_connections=200"
        limit = ["prlimit", f"--fsize={file_size_limit}", "--"] if file_size_limit else []
        self._owner(limit + [os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.root, "log"),
                             "-w", "-t", "60", "-o", opts, "start"])

    def stop(self, mode="fast"):
        """Stops the server (mode: smart, fast or immediate)."""
        self._owner([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])

    def running(self):
        return subprocess.run(self.as_owner + [os.path.join(BIN, "pg_ctl"), "-D", self.data, "status"],
                              capture_output=True, cwd="/").returncode == 0

    def address(self, db):
        return f"postgresql:///{db}?host={self.root}&port={self.port}&user={USER}"

    def psql(self, db, sql):
        """Runs sql in database db: the rows, each a list of text fields."""
        out = subprocess.run([os.path.join(BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t",
                              "-d", self.address(db), "-c", sql], capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr}")
        return [line.split("\t") for line in out.stdout.splitlines()]

    def create_db(self):
        """A new empty database: its connection string."""
        name = "bt_" + os.urandom(6).hex()
        self.psql("postgres", f"CREATE DATABASE {name}")
        return self.address(name)

    def destroy(self):
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        self.watchdog.kill()
        self.watchdog.wait()


def watch(parent, root, data, as_owner):
    """The watchdog: once parent is gone, stops the cluster in data and removes root."""
    while True:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            break
        time.sleep(1)
    subprocess.run(as_owner + [os.path.join(BIN, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                   capture_output=True, cwd="/")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--watch":
        watch(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:])
        sys.exit(0)
    # a ctest timeout's SIGTERM: stop the cluster on the way out, as on any exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) < 2:
        sys.exit("usage: pgcluster.py COMMAND ARGS...")
    cluster = Cluster()
    try:
        env = dict(os.environ, BT_PG_HOST=cluster.root, BT_PG_PORT=str(cluster.port), BT_PG_USER=USER)
        code = subprocess.run(sys.argv[1:], env=env).returncode
    finally:
        cluster.destroy()
    sys.exit(code)
