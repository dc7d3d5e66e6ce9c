"""Starts a real kefud on a free loopback port with a temporary database.

KEFU_TEST_DB selects the backend: unset -> a fresh SQLite file; a postgresql:// URL ->
that (empty) database, created by tests/run-api.sh on a throw-away cluster.
"""
import contextlib
import gzip
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("KEFU_BUILD", os.path.join(ROOT, "build"))
ADMIN_PW = "Admin@2026x"
DEMO_PW = "Kefu@2026"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, base, token=None):
        self.base = base
        self.token = token

    def call(self, method, path, body=None, raw=None, headers=None, token=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        tok = token if token is not None else self.token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Resp(r.status, r.read(), dict(r.headers))
        except urllib.error.HTTPError as e:
            return Resp(e.code, e.read(), dict(e.headers))

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def login(self, username, password):
        r = self.post("/api/v1/auth/login", {"username": username, "password": password})
        assert r.status == 200, r.body
        return Client(self.base, r.json()["token"])


class Resp:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        return json.loads(self.body)

    @property
    def error(self):
        return self.json()["error"]


class Kefud:
    """One kefud process on a free port; start() again after kill() reuses its database."""

    def __init__(self, db=None, **env_extra):
        self.tmp = tempfile.mkdtemp(prefix="kefu-api-")
        self.db = db or os.path.join(self.tmp, "kefu.db")
        self.port = free_port()
        self.env = dict(os.environ, KEFU_ADMIN_PASSWORD=ADMIN_PW, KEFU_DB=self.db, KEFU_LISTEN=f"127.0.0.1:{self.port}",
                        KEFU_ACCESS_LOG="false", KEFU_BODY_LIMIT=str(1 << 20), KEFU_WEB_ROOT=os.path.join(self.tmp, "web"),
                        **env_extra)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.tmp, "kefud.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([os.path.join(BUILD, "src", "kefud"), "--demo"], env=self.env,
                                     stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                return self
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError(open(self.log_path).read())
                time.sleep(0.05)
        raise RuntimeError("kefud did not start")

    def kill(self):
        self.proc.kill()  # SIGKILL: no chance to flush or close anything
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self):
        self.proc.terminate()  # SIGTERM: graceful shutdown must finish cleanly
        code = self.proc.wait(timeout=30)
        self.log.close()
        text = open(self.log_path).read()
        assert code == 0, text[-2000:]
        assert "stopped cleanly" in text


@pytest.fixture(scope="session")
def server():
    k = Kefud()
    os.makedirs(os.path.join(k.tmp, "web", "assets"))
    with open(os.path.join(k.tmp, "web", "index.html"), "w") as f:
        f.write("<!doctype html><title>Kefu</title>")
    with open(os.path.join(k.tmp, "web", "assets", "app-1234.js"), "w") as f:
        f.write("console.log(1)")
    with gzip.open(os.path.join(k.tmp, "web", "assets", "app-1234.js.gz"), "wb") as f:
        f.write(b"console.log(1)")
    if os.environ.get("KEFU_TEST_DB"):
        k.db = k.env["KEFU_DB"] = os.environ["KEFU_TEST_DB"]
    k.start()
    yield {"base": k.base, "db": k.db, "env": k.env, "proc": k.proc, "tmp": k.tmp}
    k.stop()


@pytest.fixture(scope="session")
def anon(server):
    return Client(server["base"])


@pytest.fixture(scope="session")
def admin(anon):
    return anon.login("admin", ADMIN_PW)


class WsReader:
    """A minimal WebSocket client (server frames are unmasked text frames)."""

    def __init__(self, base, token):
        host, port = base.replace("http://", "").split(":")
        self.s = socket.create_connection((host, int(port)), timeout=5)
        self.s.sendall((f"GET /api/v1/ws?access_token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert b" 101 " in head

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def events(self, seconds):
        """Every event received within `seconds` (text frames; others are skipped)."""
        out = []
        end = time.time() + seconds
        try:
            while True:
                left = end - time.time()
                if left <= 0:
                    return out
                self.s.settimeout(left)
                self._need(2)
                opcode = self.buf[0] & 0x0F
                n = self.buf[1] & 0x7F
                off = 2
                if n == 126:
                    self._need(4)
                    n, off = int.from_bytes(self.buf[2:4], "big"), 4
                elif n == 127:
                    self._need(10)
                    n, off = int.from_bytes(self.buf[2:10], "big"), 10
                self._need(off + n)
                payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
                if opcode == 1:
                    out.append(json.loads(payload))
        except (socket.timeout, TimeoutError):
            return out

    def close(self):
        self.s.close()


def new_database():
    """A database of its own for a second kefud: None (a new SQLite file) on SQLite, or a new
    PostgreSQL database beside KEFU_TEST_DB on the same throw-away cluster."""
    url = os.environ.get("KEFU_TEST_DB")
    if not url:
        return None
    name = "kefu_test_own_" + uuid.uuid4().hex[:8]
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True)
    return url.rsplit("/", 1)[0] + "/" + name


def query(db, sql):
    """Rows of a query on a kefud database, behind its back (SQLite file or PostgreSQL URL), as text."""
    if db.startswith("postgres"):
        out = subprocess.run(["psql", db, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]
    import sqlite3
    con = sqlite3.connect(db)
    try:
        return [tuple("" if v is None else str(v) for v in row) for row in con.execute(sql)]
    finally:
        con.close()


def execute(db, sql):
    """One statement on a kefud database behind its back, committed; its rows as text."""
    if db.startswith("postgres"):
        return query(db, sql)
    import sqlite3
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = [tuple("" if v is None else str(v) for v in row) for row in con.execute(sql)]
        con.commit()
        return rows
    finally:
        con.close()


def wait_until(fn, timeout=5.0, step=0.05, what=None, show=None):
    """Polls fn until it returns something true; returns that, or fails naming `what` it waited
    for, with fn's last value (and show(), when given, for the state around it)."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(step)
    detail = f"; state: {show()!r}" if show else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what or getattr(fn, '__name__', 'a condition')}; "
                         f"last value: {last!r}{detail}")


@contextlib.contextmanager
def on_call(base, agent, phone, to="95500"):
    """`agent` (a signed-in Client) takes a simulated call from `phone` at his desk: the simulator
    switch places it (a supervisor's cti:simulate), the queue offers it to him, he answers. While
    it lasts — and for the serving grace period after — the caller's customer file is his to open.
    He hangs up and signs out at the end, whatever happened."""
    placer = Client(base).login("lina", DEMO_PW)
    agent.post("/api/v1/cti/agent/sign-in", {})
    try:
        assert agent.post("/api/v1/cti/agent/ready", {}).status == 200
        r = placer.post("/api/v1/cti/sim/calls", {"from": phone, "to": to})
        assert r.status == 201, r.body
        me = lambda: agent.get("/api/v1/cti/me").json()  # noqa: E731
        wait_until(lambda: (me()["call"] or {}).get("ani") == phone, timeout=10,
                   what=f"the call from {phone} to ring at the agent's desk", show=me)
        assert agent.post("/api/v1/cti/agent/answer", {}).status == 200
        yield wait_until(lambda: (c := me()["call"]) and c["phase"] == "talking" and c, timeout=10,
                         what="the agent to be talking with the caller", show=me)
    finally:
        agent.post("/api/v1/cti/agent/hang-up", {})
        agent.post("/api/v1/cti/agent/sign-out", {})
