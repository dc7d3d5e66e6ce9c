"""Starts a real kefud on a free loopback port with a temporary database.

KEFU_TEST_DB selects the backend: unset -> a fresh SQLite file; a postgresql:// URL ->
that (empty) database, created by tests/run-api.sh on a throw-away cluster.
"""
import gzip
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

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


@pytest.fixture(scope="session")
def server():
    tmp = tempfile.mkdtemp(prefix="kefu-api-")
    db = os.environ.get("KEFU_TEST_DB") or os.path.join(tmp, "kefu.db")
    port = free_port()
    env = dict(os.environ, KEFU_ADMIN_PASSWORD=ADMIN_PW, KEFU_DB=db, KEFU_LISTEN=f"127.0.0.1:{port}",
               KEFU_ACCESS_LOG="false", KEFU_BODY_LIMIT=str(1 << 20), KEFU_WEB_ROOT=os.path.join(tmp, "web"))
    os.makedirs(os.path.join(tmp, "web", "assets"))
    with open(os.path.join(tmp, "web", "index.html"), "w") as f:
        f.write("<!doctype html><title>Kefu</title>")
    with open(os.path.join(tmp, "web", "assets", "app-1234.js"), "w") as f:
        f.write("console.log(1)")
    with gzip.open(os.path.join(tmp, "web", "assets", "app-1234.js.gz"), "wb") as f:
        f.write(b"console.log(1)")
    log = open(os.path.join(tmp, "kefud.log"), "w")
    proc = subprocess.Popen([os.path.join(BUILD, "src", "kefud"), "--demo"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(open(os.path.join(tmp, "kefud.log")).read())
            time.sleep(0.05)
    info = {"base": base, "db": db, "env": env, "proc": proc, "tmp": tmp}
    yield info
    proc.terminate()  # SIGTERM: graceful shutdown must finish cleanly
    code = proc.wait(timeout=30)
    log.close()
    assert code == 0, open(os.path.join(tmp, "kefud.log")).read()[-2000:]
    assert "stopped cleanly" in open(os.path.join(tmp, "kefud.log")).read()


@pytest.fixture(scope="session")
def anon(server):
    return Client(server["base"])


@pytest.fixture(scope="session")
def admin(anon):
    return anon.login("admin", ADMIN_PW)
