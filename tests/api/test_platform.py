"""Platform foundation, end to end against a running kefud (SQLite or PostgreSQL)."""
import csv
import gzip
import io
import json
import os
import socket
import sqlite3
import subprocess

import pytest
from conftest import ADMIN_PW, BUILD, DEMO_PW, Client, WsReader

# Demo staff (see src/app/demo_data.cpp)
SH_MANAGER = "zhoujun1"      # branch_manager, 上海分公司 subtree
BJ_MANAGER = "zhoujie2"
HQ_MANAGER = "zhangwei"      # hq_manager: all scope, staff:review2, grant:review1
SH_AGENT = "xuxiuying1"


def count(client, entity, **filters):
    q = "&".join(f"{k}={v}" for k, v in filters.items())
    r = client.get(f"/api/v1/{entity}?include_archived=1&page_size=1&{q}")
    assert r.status == 200, r.body
    return r.json()["total"]


def org_id(admin, code):
    return admin.get(f"/api/v1/org_unit?code={code}").json()["items"][0]["id"]


# ---- operations endpoints ----

def test_health_ready_metrics_openapi(anon):
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/readyz").json()["status"] == "ready"
    m = anon.get("/metrics").body.decode()
    assert "kefu_http_requests_total" in m and "kefu_db_pool_size" in m and "kefu_websocket_connections" in m
    api = anon.get("/api/openapi.json").json()
    assert api["openapi"].startswith("3.")
    assert "/api/v1/staff/{id}" in api["paths"] and "/api/v1/auth/login" in api["paths"]
    assert "staff" in api["components"]["schemas"]
    assert "password_hash" not in json.dumps(api["components"]["schemas"]["staff"])


def test_errors_have_code_message_and_request_id(anon):
    r = anon.get("/api/v1/nothing-here/1/2/3")
    assert r.status == 404 and r.error["code"] == "not_found" and r.error["request_id"]
    assert r.headers["X-Request-Id"] == r.error["request_id"]
    r = anon.call("DELETE", "/healthz")
    assert r.status == 405 and r.error["code"] == "method_not_allowed"


def test_static_files_and_spa_fallback(anon):
    r = anon.get("/")
    assert r.status == 200 and b"Kefu" in r.body and r.headers["Cache-Control"] == "no-cache"
    r = anon.get("/org/staff/12")
    assert r.status == 200 and b"Kefu" in r.body  # the console's own router takes it
    r = anon.get("/assets/app-1234.js")
    assert r.status == 200 and "immutable" in r.headers["Cache-Control"]
    assert r.body == b"console.log(1)" and "Content-Encoding" not in r.headers
    z = anon.get("/assets/app-1234.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert z.headers.get("Content-Encoding") == "gzip" and gzip.decompress(z.body) == b"console.log(1)"
    assert z.headers["ETag"] != r.headers["ETag"] and z.headers["Vary"] == "Accept-Encoding"
    assert anon.get("/assets/missing.js").status == 404
    assert anon.get("/../etc/passwd").status == 404
    etag = anon.get("/").headers["ETag"]
    assert anon.get("/", headers={"If-None-Match": etag}).status == 304


# ---- authentication ----

def test_login_sets_httponly_cookie_and_me(anon):
    r = anon.post("/api/v1/auth/login", {"username": "admin", "password": ADMIN_PW})
    assert r.status == 200
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    token = r.json()["token"]
    me = anon.get("/api/v1/auth/me", headers={"Cookie": "kefu_session=" + token}).json()
    assert me["username"] == "admin" and me["data_scope"] == "all"


def test_wrong_password_and_unknown_user_look_the_same(anon):
    a = anon.post("/api/v1/auth/login", {"username": "admin", "password": "nope"})
    b = anon.post("/api/v1/auth/login", {"username": "nobody", "password": "nope"})
    assert a.status == b.status == 401
    assert a.error["code"] == b.error["code"] == "invalid_credentials"


def test_lockout_after_repeated_failures(anon, admin):
    user = "sunjie1"
    for _ in range(5):
        assert anon.post("/api/v1/auth/login", {"username": user, "password": "wrong"}).status == 401
    r = anon.post("/api/v1/auth/login", {"username": user, "password": DEMO_PW})
    assert r.status == 423 and r.error["code"] == "account_locked"
    log = admin.get("/api/v1/audit?action=login.failed").json()
    assert log["total"] >= 5


def test_invalid_and_revoked_tokens(anon, admin):
    assert anon.get("/api/v1/staff").error["code"] == "unauthenticated"
    assert anon.get("/api/v1/staff", token="not-a-token").error["code"] == "invalid_token"
    r = anon.get("/api/v1/staff", headers={"Authorization": "Basic abc"})
    assert r.status == 401
    c = anon.login("wangfang", DEMO_PW)
    assert c.get("/api/v1/auth/me").status == 200
    assert c.post("/api/v1/auth/logout").status == 204
    r = c.get("/api/v1/auth/me")
    assert r.status == 401 and r.error["code"] == "invalid_token"


def test_password_policy_and_change(anon):
    c = anon.login("chenjing", DEMO_PW)
    r = c.post("/api/v1/auth/password", {"old_password": DEMO_PW, "new_password": "short"})
    assert r.status == 422 and r.error["field"] == "new_password" and r.error["code"] == "weak_password"
    r = c.post("/api/v1/auth/password", {"old_password": "bad", "new_password": "Better#Pass1"})
    assert r.status == 422 and r.error["field"] == "old_password"
    assert c.post("/api/v1/auth/password", {"old_password": DEMO_PW, "new_password": "Better#Pass1"}).status == 204
    again = anon.login("chenjing", "Better#Pass1")
    # Back as it was: other tests sign in as chenjing with the demo password.
    assert again.post("/api/v1/auth/password", {"old_password": "Better#Pass1", "new_password": DEMO_PW}).status == 204


# ---- generic entities and bad input ----

def test_contact_type_crud_roundtrip_chinese_emoji_and_sql_text(admin):
    name = "客户来电😀 '; DROP TABLE staff; -- \" % _ \\"
    r = admin.post("/api/v1/contact_type", {"code": "t_roundtrip", "name": name, "channel": "phone",
                                            "description": "多行\n说明"})
    assert r.status == 201, r.body
    rec = r.json()
    assert rec["name"] == name and rec["version"] == 1
    got = admin.get(f"/api/v1/contact_type/{rec['id']}").json()
    assert got["name"] == name and got["description"] == "多行\n说明"
    # The metacharacters are plain text in filters too.
    from urllib.parse import quote
    found = admin.get("/api/v1/contact_type?name__like=" + quote("DROP TABLE")).json()
    assert [i["id"] for i in found["items"]] == [rec["id"]]
    assert admin.get("/api/v1/contact_type?name__like=" + quote("%")).json()["total"] == 1
    assert admin.get("/api/v1/staff?name=" + quote("' OR '1'='1")).json()["total"] == 0
    r = admin.put(f"/api/v1/contact_type/{rec['id']}", {"version": 1, "name": "更新"})
    assert r.status == 200 and r.json()["version"] == 2
    r = admin.delete(f"/api/v1/contact_type/{rec['id']}?version=2")
    assert r.status == 200 and r.json()["archived"] is True
    assert admin.get("/api/v1/contact_type?code=t_roundtrip").json()["total"] == 0


@pytest.mark.parametrize("raw,status,code,field", [
    (b"{not json", 400, "malformed_json", None),
    (b"[1,2]", 400, "malformed_json", None),
    (b"", 400, "malformed_json", None),
    (json.dumps({"code": "x1", "name": 5, "channel": "phone"}).encode(), 422, "wrong_type", "name"),
    (json.dumps({"code": "x1", "name": "n", "channel": "phone", "colour": "red"}).encode(), 422, "unknown_field", "colour"),
    (json.dumps({"code": "x1", "channel": "phone"}).encode(), 422, "required", "name"),
    (json.dumps({"code": "x1", "name": "字" * 61, "channel": "phone"}).encode(), 422, "too_long", "name"),
    (json.dumps({"code": "x1", "name": "n", "channel": "pigeon"}).encode(), 422, "invalid_option", "channel"),
    (json.dumps({"code": "X Y", "name": "n", "channel": "phone"}).encode(), 422, "invalid_format", "code"),
    (json.dumps({"code": "x1", "name": "a\u0000b", "channel": "phone"}).encode(), 422, "invalid_text", "name"),
    (json.dumps({"code": "x1", "name": "n", "channel": "phone", "enabled": "yes"}).encode(), 422, "wrong_type", "enabled"),
    (json.dumps({"code": "x1", "name": "n", "channel": "phone", "password_hash": "x"}).encode(), 422, "unknown_field", "password_hash"),
])
def test_bad_input_is_rejected_and_nothing_changes(admin, raw, status, code, field):
    before = count(admin, "contact_type")
    audit_before = admin.get("/api/v1/audit?page_size=1").json()["total"]
    r = admin.post("/api/v1/contact_type", raw=raw)
    assert r.status == status, r.body
    assert r.error["code"] == code
    if field:
        assert r.error["field"] == field
    assert count(admin, "contact_type") == before
    assert admin.get("/api/v1/audit?page_size=1").json()["total"] == audit_before


def test_all_field_errors_reported_together(admin):
    r = admin.post("/api/v1/contact_type", {"code": 1, "name": 2})
    fields = {d["field"] for d in r.error["details"]}
    assert {"code", "name", "channel"} <= fields


def test_oversized_body(server, admin):
    # The server answers 413 from the headers alone, without reading the body.
    host, port = server["base"].replace("http://", "").split(":")
    before = count(admin, "contact_type")
    s = socket.create_connection((host, int(port)))
    s.sendall((f"POST /api/v1/contact_type HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin.token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {2 << 20}\r\n\r\n").encode() + b"{" + b" " * 65536)
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 413"), data[:100]
    assert b'"code":"body_too_large"' in data
    assert count(admin, "contact_type") == before
    assert admin.get("/healthz").status == 200


def test_bad_filters_and_paging(admin):
    assert admin.get("/api/v1/staff?nosuchfield=1").error["code"] == "unknown_filter"
    assert admin.get("/api/v1/staff?page=0").error["field"] == "page"
    assert admin.get("/api/v1/staff?sort=password_hash").error["code"] == "not_sortable"
    assert admin.get("/api/v1/staff?points=abc").error["code"] == "invalid_filter"
    assert admin.get("/api/v1/nosuchentity").status == 404
    page = admin.get("/api/v1/staff?page_size=5&sort=-points").json()
    assert len(page["items"]) == 5 and page["total"] >= 30
    pts = [i["points"] for i in page["items"]]
    assert pts == sorted(pts, reverse=True)
    assert all("password_hash" not in i for i in page["items"])


def test_stale_version_is_409(admin):
    rec = admin.post("/api/v1/dict_item", {"dict_type": "test_dict", "code": "a", "label_zh": "甲"}).json()
    assert admin.put(f"/api/v1/dict_item/{rec['id']}", {"version": 1, "label_zh": "乙"}).status == 200
    r = admin.put(f"/api/v1/dict_item/{rec['id']}", {"version": 1, "label_zh": "丙"})
    assert r.status == 409 and r.error["code"] == "version_conflict" and r.error["field"] == "version"
    assert admin.get(f"/api/v1/dict_item/{rec['id']}").json()["label_zh"] == "乙"
    r = admin.put(f"/api/v1/dict_item/{rec['id']}", {"label_zh": "丁"})
    assert r.status == 422 and r.error["field"] == "version"


def test_duplicate_is_409_with_field(admin):
    assert admin.post("/api/v1/contact_type", {"code": "dup1", "name": "a", "channel": "sms"}).status == 201
    r = admin.post("/api/v1/contact_type", {"code": "dup1", "name": "b", "channel": "sms"})
    assert r.status == 409 and r.error["code"] == "duplicate" and r.error["field"] == "code"


def test_idempotency_key_replays(admin):
    h = {"Idempotency-Key": "req-42"}
    a = admin.post("/api/v1/contact_type", {"code": "idem1", "name": "a", "channel": "sms"}, headers=h)
    b = admin.post("/api/v1/contact_type", {"code": "idem1", "name": "a", "channel": "sms"}, headers=h)
    assert a.status == b.status == 201 and a.json()["id"] == b.json()["id"]
    assert b.headers.get("Idempotent-Replayed") == "true"


def test_reference_and_dictionary_checks(admin):
    r = admin.post("/api/v1/staff_group", {"name": "g", "org_id": 999999})
    assert r.status == 422 and r.error["field"] == "org_id" and r.error["code"] == "invalid_reference"
    before = admin.get("/api/v1/reviews?kind=staff").json()["total"]
    r = admin.post("/api/v1/staff", {"username": "dictcheck", "name": "字典", "org_id": org_id(admin, "HQ"),
                                     "level": "L9"})
    assert r.status == 422 and r.error["field"] == "level" and r.error["code"] == "invalid_option"
    assert admin.get("/api/v1/reviews?kind=staff").json()["total"] == before  # no change request either


def test_meta_describes_entities_for_the_console(admin, anon):
    meta = admin.get("/api/v1/meta").json()
    names = {e["name"] for e in meta["entities"]}
    assert {"staff", "org_unit", "role", "sys_param", "dict_item", "contact_type"} <= names
    staff = next(e for e in meta["entities"] if e["name"] == "staff")
    assert staff["review_steps"] == 2 and "review2" in staff["actions"]
    fields = {f["name"]: f for f in staff["fields"]}
    assert fields["name"]["label_zh"] == "姓名" and "password_hash" not in fields
    agent = anon.login(SH_AGENT, DEMO_PW)
    names = {e["name"] for e in agent.get("/api/v1/meta").json()["entities"]}
    assert "sys_param" not in names and "staff" in names


# ---- organisation, staff, review, grants, data scope ----

def test_org_tree_paths_and_cycle(admin):
    hq = org_id(admin, "HQ")
    a = admin.post("/api/v1/org_unit", {"name": "测试分公司", "code": "TST", "kind": "branch", "parent_id": hq}).json()
    b = admin.post("/api/v1/org_unit", {"name": "测试营业部", "code": "TST-1", "kind": "department",
                                        "parent_id": a["id"]}).json()
    assert b["path"] == f"/{hq}/{a['id']}/{b['id']}/"
    r = admin.put(f"/api/v1/org_unit/{a['id']}", {"version": a["version"], "parent_id": b["id"]})
    assert r.status == 422 and r.error["code"] == "cycle"
    r = admin.post("/api/v1/org_unit", {"name": "x", "code": "TST-2", "kind": "team"})
    assert r.status == 422 and r.error["field"] == "parent_id"


def test_staff_two_step_review_grant_and_scope(anon, admin):
    sh = anon.login(SH_MANAGER, DEMO_PW)
    hqm = anon.login(HQ_MANAGER, DEMO_PW)
    sh_team = org_id(admin, "SH-T1")
    bj_team = org_id(admin, "BJ-T1")
    # A branch manager cannot put staff into another branch.
    r = sh.post("/api/v1/staff", {"username": "intruder", "name": "外人", "org_id": bj_team})
    assert r.status == 403 and r.error["code"] == "out_of_scope" and r.error["field"] == "org_id"
    # Creating staff makes a change request; nothing exists until both reviews pass.
    r = sh.post("/api/v1/staff", {"username": "lixiaolong", "name": "李小龙", "org_id": sh_team,
                                  "level": "L1", "ext": {"employee_no": "E90001"}})
    assert r.status == 202, r.body
    cr = r.json()["change_request"]
    assert cr["status"] == "pending" and cr["steps"] == 2
    assert admin.get("/api/v1/staff?username=lixiaolong").json()["total"] == 0
    r = sh.post(f"/api/v1/reviews/{cr['id']}/approve", {"comment": "ok"})
    assert r.status == 403 and r.error["code"] == "self_review"
    r = hqm.post(f"/api/v1/reviews/{cr['id']}/approve", {})
    assert r.status == 403  # the HQ manager has only the final review permission
    r = admin.post(f"/api/v1/reviews/{cr['id']}/approve", {"comment": "初审通过"})
    assert r.status == 200 and r.json()["status"] == "first_approved"
    r = admin.post(f"/api/v1/reviews/{cr['id']}/approve", {"comment": "again"})
    assert r.status == 403 and r.error["code"] == "same_reviewer"
    r = hqm.post(f"/api/v1/reviews/{cr['id']}/approve", {"comment": "终审通过"})
    assert r.status == 200 and r.json()["status"] == "approved", r.body
    new_id = r.json()["result_id"]
    staff = admin.get(f"/api/v1/staff/{new_id}").json()
    assert staff["username"] == "lixiaolong" and staff["ext"] == {"employee_no": "E90001"}
    assert hqm.post(f"/api/v1/reviews/{cr['id']}/approve", {}).error["code"] == "already_decided"
    done = sh.get(f"/api/v1/reviews/{cr['id']}").json()
    assert done["status"] == "approved" and done["first_comment"] == "初审通过" and done["final_comment"] == "终审通过"
    bj = anon.login(BJ_MANAGER, DEMO_PW)
    assert bj.get(f"/api/v1/reviews/{cr['id']}").status == 404  # another branch's request

    # Role grant (菜单权限审核): submitted by the branch manager, approved by HQ.
    roles = {r["code"]: r["id"] for r in admin.get("/api/v1/role?page_size=50").json()["items"]}
    r = sh.post(f"/api/v1/staff/{new_id}/roles", {"role_ids": [roles["admin"]]})
    assert r.status == 403 and r.error["code"] == "grant_exceeds_own"
    me = sh.get("/api/v1/auth/me").json()["id"]
    r = sh.post(f"/api/v1/staff/{me}/roles", {"role_ids": [roles["agent"]]})
    assert r.status == 403 and r.error["code"] == "self_grant"
    r = sh.post(f"/api/v1/staff/{new_id}/roles", {"role_ids": [roles["agent"]]})
    assert r.status == 202
    grant = r.json()["change_request"]
    assert sh.get(f"/api/v1/staff/{new_id}/roles").json()["items"] == []
    assert hqm.post(f"/api/v1/reviews/{grant['id']}/approve", {"comment": "同意"}).status == 200
    assert [x["code"] for x in sh.get(f"/api/v1/staff/{new_id}/roles").json()["items"]] == ["agent"]

    # Password reset, then the new member sees only himself.
    r = sh.post(f"/api/v1/staff/{new_id}/password-reset", {"new_password": "Welcome#2026"})
    assert r.status == 200
    newbie = anon.login("lixiaolong", "Welcome#2026")
    assert newbie.get("/api/v1/auth/me").json()["must_change_password"] is True
    # Until he changes the reset password, the session can do nothing else.
    r = newbie.get("/api/v1/staff")
    assert r.status == 403 and r.error["code"] == "password_change_required"
    host, port = newbie.base.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall((f"GET /api/v1/ws?access_token={newbie.token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    assert b" 403 " in s.recv(4096).split(b"\r\n")[0]
    s.close()
    assert newbie.post("/api/v1/auth/password", {"old_password": "Welcome#2026",
                                                 "new_password": "Mine#2026ok"}).status == 204
    mine = newbie.get("/api/v1/staff").json()
    assert [i["username"] for i in mine["items"]] == ["lixiaolong"]

    # The branch manager sees his branch only; other branches' records do not exist for him.
    sh_staff = sh.get("/api/v1/staff?page_size=200").json()["items"]
    assert sh_staff and all(s["org_id"] in sh_org_ids(admin) for s in sh_staff)
    bj_someone = admin.get(f"/api/v1/staff?org_id={bj_team}").json()["items"][0]
    assert sh.get(f"/api/v1/staff/{bj_someone['id']}").status == 404
    r = sh.put(f"/api/v1/staff/{bj_someone['id']}", {"version": bj_someone["version"], "name": "改名"})
    assert r.status == 404
    assert sh.post(f"/api/v1/staff/{bj_someone['id']}/password-reset", {}).status == 404


def sh_org_ids(admin):
    sh = org_id(admin, "SH")
    path = admin.get(f"/api/v1/org_unit/{sh}").json()["path"]
    return {o["id"] for o in admin.get(f"/api/v1/org_unit?page_size=200&path__like={path}").json()["items"]}


def test_user_cannot_widen_his_own_role(anon, admin):
    sh = anon.login(SH_MANAGER, DEMO_PW)
    roles = {r["code"]: r for r in admin.get("/api/v1/role?page_size=50").json()["items"]}
    bm = roles["branch_manager"]
    r = sh.put(f"/api/v1/role/{bm['id']}", {"version": bm["version"], "permissions": ["*"]})
    assert r.status == 403
    # Even an administrator's change to a role waits for another reviewer.
    r = admin.put(f"/api/v1/role/{bm['id']}", {"version": bm["version"], "data_scope": "all"})
    assert r.status == 202
    cr = r.json()["change_request"]
    assert admin.post(f"/api/v1/reviews/{cr['id']}/approve", {}).error["code"] == "self_review"
    assert admin.get(f"/api/v1/role/{bm['id']}").json()["data_scope"] == "subtree"
    assert admin.post(f"/api/v1/reviews/{cr['id']}/reject", {"comment": "不同意"}).status == 403  # own request
    hqm = anon.login(HQ_MANAGER, DEMO_PW)
    r = hqm.post(f"/api/v1/reviews/{cr['id']}/reject", {})
    assert r.status == 422 and r.error["field"] == "comment"


def test_staff_stats(admin):
    g = admin.get("/api/v1/staff/stats?by=level").json()["groups"]
    assert sum(x["count"] for x in g) >= 30
    assert admin.get("/api/v1/staff/stats?by=password_hash").status == 400


# ---- export and import ----

def test_export_csv_and_xlsx(admin):
    r = admin.get("/api/v1/staff/export?format=csv")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))
    assert len(rows) >= 30 and "password_hash" not in rows[0]
    assert any(x["name"] == "张伟" for x in rows)
    r = admin.get("/api/v1/staff/export?format=xlsx&org_id=" + str(org_id(admin, "HQ")))
    assert r.status == 200
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(r.body))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert "姓名 (name)" in header
    names = [row[header.index("姓名 (name)")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert "张伟" in names


def test_import_all_or_nothing_then_valid_rows(admin):
    good = "code,name,channel\r\nimp_a,导入甲,sms\r\nimp_b,导入乙,email\r\n"
    bad = good + "imp_c,导入丙,pigeon\r\nImp D,x,sms\r\n"
    before = count(admin, "contact_type")
    r = admin.post("/api/v1/contact_type/import", raw=bad.encode())
    assert r.status == 422 and r.json()["rejected"] is True
    errs = r.json()["errors"]
    assert {(e["row"], e["field"]) for e in errs} == {(4, "channel"), (5, "code")}
    assert count(admin, "contact_type") == before
    r = admin.post("/api/v1/contact_type/import?mode=valid", raw=bad.encode())
    assert r.status == 200 and r.json()["written"] == 2 and len(r.json()["errors"]) == 2
    assert count(admin, "contact_type") == before + 2
    r = admin.post("/api/v1/contact_type/import", raw=b'code,name\r\n"unterminated,x\r\n')
    assert r.status == 400 and r.error["code"] == "malformed_csv"
    r = admin.post("/api/v1/contact_type/import", raw=b"code,colour\r\na,b\r\n")
    assert r.status == 400 and r.error["code"] == "unknown_column"


def test_import_staff_goes_to_review(admin):
    sh_team = org_id(admin, "SH-T1")
    csvtext = f"username,name,org_id\r\nimpstaff1,导入员工,{sh_team}\r\n"
    r = admin.post("/api/v1/staff/import", raw=csvtext.encode())
    assert r.status == 200 and r.json()["submitted"] == 1 and r.json()["written"] == 0


# ---- operation log ----

def test_audit_log_records_diff_and_verifies(admin):
    rec = admin.post("/api/v1/sys_param", {"key": "audit.test", "value": "1", "value_type": "integer"}).json()
    admin.put(f"/api/v1/sys_param/{rec['id']}", {"version": 1, "value": "2"})
    items = admin.get(f"/api/v1/audit?entity=sys_param&entity_id={rec['id']}").json()["items"]
    assert [i["action"] for i in items] == ["update", "create"]
    assert items[0]["diff"]["value"] == {"from": "1", "to": "2"}
    assert items[0]["actor_name"] == "admin" and items[0]["client_ip"] == "127.0.0.1"
    assert admin.get("/api/v1/audit/verify").json()["ok"] is True
    r = admin.put(f"/api/v1/sys_param/{rec['id']}", {"version": 2, "value": "x"})
    assert r.status == 422 and r.error["field"] == "value"
    stats = admin.get("/api/v1/audit/stats?by=action").json()["groups"]
    assert any(g["key"] == "create" for g in stats)


def test_agent_cannot_read_audit_or_create(anon):
    agent = anon.login(SH_AGENT, DEMO_PW)
    assert agent.get("/api/v1/audit").status == 403
    assert agent.post("/api/v1/contact_type", {"code": "zz", "name": "z", "channel": "sms"}).status == 403
    assert agent.get("/api/v1/sys_param").status == 403


def test_websocket_requires_a_session(server, admin):
    host, port = server["base"].replace("http://", "").split(":")
    def handshake(extra):
        s = socket.create_connection((host, int(port)))
        s.sendall((f"GET /api/v1/ws{extra} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        data = s.recv(4096)
        s.close()
        return data
    assert b" 401 " in handshake("")
    assert b" 101 " in handshake("?access_token=" + admin.token)


# ---- what the web console relies on ----

def test_meta_gives_option_labels_and_default_sort_is_accepted(admin):
    meta = admin.get("/api/v1/meta/org_unit").json()
    kind = next(f for f in meta["fields"] if f["name"] == "kind")
    labels = {o["value"]: (o["label_zh"], o["label_en"]) for o in kind["option_labels"]}
    assert labels["department"] == ("营业部", "Business department")
    assert [o["value"] for o in kind["option_labels"]] == kind["options"]
    # The entity's default order may be asked for by name even where the field is not sortable.
    r = admin.get(f"/api/v1/org_unit?sort={meta['default_sort']}&page_size=500")
    assert r.status == 200
    paths = [u["path"] for u in r.json()["items"]]
    assert paths == sorted(paths)
    assert admin.get("/api/v1/org_unit?sort=address").error["code"] == "not_sortable"


def test_reviews_say_who_may_decide_and_carry_names(anon, admin):
    sh = anon.login(SH_MANAGER, DEMO_PW)
    hqm = anon.login(HQ_MANAGER, DEMO_PW)
    r = admin.post("/api/v1/staff", {"username": "wanglei9", "name": "王磊", "org_id": org_id(admin, "SH-T1")})
    assert r.status == 202
    cr = r.json()["change_request"]
    assert cr["submitted_by_name"] == "系统管理员"
    assert admin.get(f"/api/v1/reviews/{cr['id']}").json()["can_decide"] is False   # his own request
    assert hqm.get(f"/api/v1/reviews/{cr['id']}").json()["can_decide"] is False     # final step only
    todo = [x for x in sh.get("/api/v1/reviews").json()["items"] if x["id"] == cr["id"]]
    assert todo and todo[0]["can_decide"] is True
    assert sh.post(f"/api/v1/reviews/{cr['id']}/approve", {"comment": "初审"}).status == 200
    after = hqm.get(f"/api/v1/reviews/{cr['id']}").json()
    assert after["can_decide"] is True and after["first_by_name"] == "周军"
    assert sh.get(f"/api/v1/reviews/{cr['id']}").json()["can_decide"] is False       # not twice
    done = hqm.post(f"/api/v1/reviews/{cr['id']}/reject", {"comment": "资料不全"}).json()
    assert done["status"] == "rejected" and done["final_by_name"] == "张伟" and done["can_decide"] is False


def test_reset_password_ends_sessions_at_once(anon, admin):
    # The session cache must not keep a revoked session alive, even briefly.
    user = anon.login("wangfang", DEMO_PW)
    assert user.get("/api/v1/auth/me").status == 200
    me = admin.get("/api/v1/staff?username=wangfang").json()["items"][0]
    assert admin.post(f"/api/v1/staff/{me['id']}/password-reset", {"new_password": "Fresh#2026a"}).status == 200
    r = user.get("/api/v1/auth/me")
    assert r.status == 401 and r.error["code"] == "invalid_token"
    assert admin.post(f"/api/v1/staff/{me['id']}/password-reset", {"new_password": DEMO_PW}).status == 200


def test_review_events_reach_reviewers_in_scope_only(anon, admin, server):
    sh = anon.login(SH_MANAGER, DEMO_PW)
    bj = anon.login(BJ_MANAGER, DEMO_PW)
    sh_ws, bj_ws = WsReader(server["base"], sh.token), WsReader(server["base"], bj.token)
    try:
        r = admin.post("/api/v1/staff", {"username": "zhaoyun9", "name": "赵云", "org_id": org_id(admin, "SH-T1")})
        assert r.status == 202
        cr = r.json()["change_request"]
        got = [e for e in sh_ws.events(1.5) if e["type"] == "review.changed"]
        assert {"id": cr["id"], "kind": "staff", "status": "pending"} in [e["data"] for e in got]
        assert [e for e in bj_ws.events(0.5) if e["type"] == "review.changed"] == []  # another branch
        assert sh.post(f"/api/v1/reviews/{cr['id']}/reject", {"comment": "重复"}).status == 200
        got = [e["data"] for e in sh_ws.events(1.5) if e["type"] == "review.changed"]
        assert {"id": cr["id"], "kind": "staff", "status": "rejected"} in got
    finally:
        sh_ws.close()
        bj_ws.close()


def run_sql(server, sql):
    """Runs SQL on the server's own database, behind kefud's back (SQLite or PostgreSQL)."""
    if server["db"].startswith("postgres"):
        subprocess.run(["psql", server["db"], "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)
    else:
        con = sqlite3.connect(server["db"])
        con.execute(sql)
        con.commit()
        con.close()


def test_expired_session_is_refused_with_its_own_code(anon, server):
    # A token that has never been used is not in the session cache: its expiry comes from the
    # database, as after a restart or on another node.
    c = anon.login("wangfang", DEMO_PW)
    run_sql(server, "UPDATE auth_session SET expires_at = 1 WHERE revoked_at IS NULL AND staff_id = "
                    "(SELECT id FROM staff WHERE username = 'wangfang')")
    r = c.get("/api/v1/auth/me")
    assert r.status == 401 and r.error["code"] == "session_expired"
