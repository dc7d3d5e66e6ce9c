"""客户变更推送: the change feed pushed to an external CRM's URL — a real HTTP receiver in the test,
signed deliveries in id order, retries until the receiver takes them, replay by rewinding, and on
PostgreSQL no change skipped when transactions commit out of id order."""
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import DEMO_PW, query, wait_until

SECRET = "s3cret-for-the-external-crm"


class Receiver:
    """The external CRM: records every delivery; answers 500 while `fail` > 0."""

    def __init__(self):
        self.got, self.fail, self.lock = [], 0, threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    failing = outer.fail > 0
                    outer.fail -= failing
                    outer.got.append({"headers": dict(self.headers), "body": body, "status": 500 if failing else 200})
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"busy" if failing else b"ok")

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/kefu/changes"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def accepted_ids(self):
        with self.lock:
            return [c["id"] for d in self.got if d["status"] == 200 for c in json.loads(d["body"])["changes"]]

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def latest_change(server):
    return int(query(server["db"], "SELECT COALESCE(MAX(id), 0) FROM crm_change")[0][0])


def make_hook(admin, receiver, name):
    r = admin.post("/api/v1/crm/webhooks", {"name": name, "url": receiver.url, "secret": SECRET})
    assert r.status == 201, r.body
    return r.json()


def test_changes_are_pushed_signed_in_order_retried_and_replayed(admin, anon, server, receiver):
    hq = anon.login("zhangwei", DEMO_PW)  # reads the feed (crm:sync) but may not point it anywhere
    assert hq.post("/api/v1/crm/webhooks", {"name": "x", "url": receiver.url, "secret": SECRET}).status == 403
    bad = admin.post("/api/v1/crm/webhooks", {"name": "外部CRM", "url": "ftp://crm.example.com/x", "secret": "short"})
    assert bad.status == 422
    codes = {d["field"]: d["code"] for d in bad.error["details"]}
    assert codes == {"url": "invalid_url", "secret": "weak_secret"}

    start = latest_change(server)
    receiver.fail = 1  # the first delivery meets a busy receiver
    hook = make_hook(admin, receiver, "外部CRM")
    assert hook["after_id"] == start and hook["has_secret"] and "secret" not in hook
    c = admin.post("/api/v1/crm/customers", {"name": "推送客户", "phones": ["13955558801"], "external_key": "EXT-PUSH-1"})
    assert c.status == 201, c.body
    cust = c.json()
    up = admin.put(f"/api/v1/crm/customers/{cust['id']}", {"version": cust["version"], "status": "dormant"})
    assert up.status == 200, up.body

    ids = wait_until(lambda: receiver.accepted_ids() if len(receiver.accepted_ids()) >= 2 else None, timeout=15)
    assert ids == sorted(ids) and ids[0] == start + 1 and len(ids) == len(set(ids))
    assert receiver.got[0]["status"] == 500  # refused first, then retried with the same changes
    first_ok = next(d for d in receiver.got if d["status"] == 200)
    body = json.loads(first_ok["body"])
    assert body["changes"][0]["id"] == json.loads(receiver.got[0]["body"])["changes"][0]["id"]
    mine = [x for x in body["changes"] if x["customer_id"] == cust["id"]]
    assert [x["action"] for x in mine][:2] == ["create", "update"] and mine[0]["external_key"] == "EXT-PUSH-1"
    assert "status" in mine[1]["fields"]
    # The signature: HMAC-SHA-256 of "timestamp.body" under the shared secret.
    h = {k.lower(): v for k, v in first_ok["headers"].items()}
    expected = hmac.new(SECRET.encode(), (h["x-kefu-timestamp"] + ".").encode() + first_ok["body"], hashlib.sha256)
    assert h["x-kefu-signature"] == "sha256=" + expected.hexdigest()
    assert h["x-kefu-event"] == "crm.changes" and h["x-kefu-webhook"] == str(hook["id"])
    assert abs(int(h["x-kefu-timestamp"]) - time.time()) < 60

    state = wait_until(lambda: next((x for x in admin.get("/api/v1/crm/webhooks").json()["items"]
                                     if x["id"] == hook["id"] and x["lag"] == 0), None), timeout=10)
    assert state["failures"] == 0 and state["last_status"] == 200 and state["delivered"] >= 2
    assert all("secret" not in x for x in admin.get("/api/v1/crm/webhooks").json()["items"])
    # The operation log has the webhook, never its secret.
    rows = query(server["db"], f"SELECT action, diff FROM audit_log WHERE entity = 'crm_webhook' AND entity_id = {hook['id']}")
    assert rows[0][0] == "create" and SECRET not in rows[0][1] and receiver.url in rows[0][1]

    # Replay: rewinding the cursor sends the same changes again (the receiver dedups by id).
    n = len(receiver.accepted_ids())
    stale = admin.put(f"/api/v1/crm/webhooks/{hook['id']}", {"version": hook["version"] + 5, "after": start})
    assert stale.status == 409 and stale.error["code"] == "stale_version"
    r = admin.put(f"/api/v1/crm/webhooks/{hook['id']}", {"version": state["version"], "after": start})
    assert r.status == 200 and r.json()["after_id"] == start
    wait_until(lambda: len(receiver.accepted_ids()) >= n + 2, timeout=10)
    assert receiver.accepted_ids()[n] == start + 1

    # Disabled: nothing goes out.
    v = admin.get("/api/v1/crm/webhooks").json()["items"]
    v = next(x for x in v if x["id"] == hook["id"])["version"]
    assert admin.put(f"/api/v1/crm/webhooks/{hook['id']}", {"version": v, "enabled": False}).json()["enabled"] is False
    time.sleep(0.3)
    count = len(receiver.got)
    admin.put(f"/api/v1/crm/customers/{cust['id']}", {"version": up.json()["version"], "status": "normal"})
    time.sleep(2.5)
    assert len(receiver.got) == count


class HeldTransaction:
    """A psql session that writes a change and keeps its transaction open, like a slow import."""

    def __init__(self, db, customer_id, tag):
        env = dict(os.environ, PGAPPNAME=tag)
        self.p = subprocess.Popen(["psql", db, "-v", "ON_ERROR_STOP=1", "-q"], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, env=env, text=True)
        self.p.stdin.write("BEGIN;\n"
                           f"UPDATE crm_customer SET updated_at = updated_at WHERE id = {customer_id};\n"
                           "INSERT INTO crm_change (customer_id, action, fields, at, staff_id) "
                           f"VALUES ({customer_id}, 'update', '[\"held\"]', 0, 1);\n")
        self.p.stdin.flush()
        wait_until(lambda: query(db, "SELECT 1 FROM pg_stat_activity WHERE application_name = "
                                     f"'{tag}' AND state = 'idle in transaction'"), timeout=10)

    def end(self, how):
        self.p.stdin.write(how + ";\n")
        self.p.stdin.close()
        assert self.p.wait(timeout=10) == 0


def test_on_postgresql_a_change_committed_late_is_not_skipped(admin, server, receiver):
    if not server["db"].startswith("postgres"):
        pytest.skip("SQLite has one writer: its change ids commit in order")
    cust = admin.post("/api/v1/crm/customers", {"name": "乱序提交", "phones": ["13955558802"]}).json()
    other = admin.post("/api/v1/crm/customers", {"name": "慢事务", "phones": ["13955558803"]}).json()
    hook = make_hook(admin, receiver, "乱序")
    base = latest_change(server)

    # A transaction takes change id base+1 and stays open; kefud commits base+2 meanwhile.
    held = HeldTransaction(server["db"], other["id"], "kefu-test-held")
    r = admin.put(f"/api/v1/crm/customers/{cust['id']}", {"version": cust["version"], "status": "dormant"})
    assert r.status == 200, r.body
    assert latest_change(server) == base + 2
    time.sleep(2.5)  # several polls: base+2 is held back, or base+1 would be lost behind the cursor
    assert base + 2 not in receiver.accepted_ids()
    held.end("COMMIT")
    wait_until(lambda: base + 2 in receiver.accepted_ids(), timeout=10)
    assert [i for i in receiver.accepted_ids() if i > base] == [base + 1, base + 2]

    # Rolled back: its id never appears, and what came after it still goes out.
    held = HeldTransaction(server["db"], other["id"], "kefu-test-rolled")
    r = admin.put(f"/api/v1/crm/customers/{cust['id']}", {"version": r.json()["version"], "status": "normal"})
    assert r.status == 200
    time.sleep(1.5)
    assert base + 4 not in receiver.accepted_ids()
    held.end("ROLLBACK")
    wait_until(lambda: base + 4 in receiver.accepted_ids(), timeout=10)
    assert [i for i in receiver.accepted_ids() if i > base] == [base + 1, base + 2, base + 4]
    state = next(x for x in admin.get("/api/v1/crm/webhooks").json()["items"] if x["id"] == hook["id"])
    assert state["after_id"] == base + 4
    admin.put(f"/api/v1/crm/webhooks/{hook['id']}", {"version": state["version"], "enabled": False})
