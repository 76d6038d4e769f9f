"""Runs the real bantrail-collect for the collector's tests (collect/): its
commands with the passphrase through --passphrase-fd, and `serve` on a free
loopback port.

Each test runs against one store, chosen by BT_STORE: "sqlite" (the
default: DIR/reports.sqlite) or "postgresql": then a throwaway cluster is
started (pgcluster.py) and each collector folder gets a database of its own,
passed with --store by argv(); query() and dump() read either store."""
import atexit
import os
import sqlite3
import subprocess

from btproto import BUILD

COLLECT = os.path.join(BUILD, "bantrail-collect")
FORGE = os.path.join(BUILD, "tests", "report_forge")
STORE = os.environ.get("BT_STORE", "sqlite")
assert STORE in ("sqlite", "postgresql"), STORE

_cluster = None
_stores = {}  # collector folder -> its PostgreSQL address


def cluster():
    """The run's PostgreSQL cluster (started at first use, removed at exit)."""
    global _cluster
    if _cluster is None:
        import pgcluster
        _cluster = pgcluster.Cluster()
        atexit.register(_cluster.destroy)
    return _cluster


def store_address(directory):
    """--store's value for the collector in directory (None: its SQLite file)."""
    if STORE == "sqlite":
        return None
    key = os.path.realpath(directory)
    if key not in _stores:
        _stores[key] = cluster().create_db()
    return _stores[key]


def argv(directory, *args):
    """bantrail-collect --dir directory [--store ADDRESS] args..."""
    address = store_address(directory)
    return [COLLECT, "--dir", directory, *(["--store", address] if address else []), *args]


def query(directory, sql):
    """The rows of sql in the store of the collector in directory (integers as int)."""
    if STORE == "sqlite":
        db = sqlite3.connect(f"file:{os.path.join(directory, 'reports.sqlite')}?mode=ro", uri=True)
        try:
            return [tuple(r) for r in db.execute(sql).fetchall()]
        finally:
            db.close()
    address = store_address(directory)
    rows = cluster().psql(address.split("?")[0].rsplit("/", 1)[1], sql)
    return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in r) for r in rows]


def scalar(directory, sql):
    return query(directory, sql)[0][0]


def columns(directory, table):
    """The column names of table."""
    if STORE == "sqlite":
        return [r[1] for r in query(directory, f"PRAGMA table_info({table})")]
    return [r[0] for r in query(directory, "SELECT column_name FROM information_schema.columns "
                                           f"WHERE table_name='{table}'")]


def dump(directory):
    """Every byte the store keeps: the SQLite file and its write-ahead file, or pg_dump of the database."""
    if STORE == "sqlite":
        data = b""
        for name in ("reports.sqlite", "reports.sqlite-wal"):
            if os.path.exists(os.path.join(directory, name)):
                with open(os.path.join(directory, name), "rb") as f:
                    data += f.read()
        return data
    import pgcluster
    return subprocess.run([os.path.join(pgcluster.BIN, "pg_dump"), "-d", store_address(directory)],
                          capture_output=True, check=True, timeout=120).stdout


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
        return subprocess.run(argv(args[0], *args[1:]), capture_output=True, text=True, pass_fds=fds,
                              timeout=60, **kw)
    finally:
        for fd in fds:
            os.close(fd)


def serve(directory, passphrase, *flags):
    """Starts `serve` on directory at any free port: (the process, its port)."""
    r, w = os.pipe()
    os.write(w, (passphrase + "\n").encode())
    os.close(w)
    proc = subprocess.Popen(argv(directory, "serve", "--passphrase-fd", str(r), "--port", "0", *flags),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=(r,))
    os.close(r)
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read()
    return proc, int(line.rsplit(":", 1)[1].split("/")[0])
