"""服务授权 and data scope on every read route: a customer's file, contacts, trades, calls,
recordings, conversations and a number's history open to users of his own branch, to the agent
who serves him on a call (and for the grace period after), to a supervisor whose scope covers the
call, and to nobody else — not by id, not by phone number. Openings outside the scope are logged
for compliance; an emergency opening needs a permission and a reason and is reported daily; a
session that keeps asking for customers that are not its own is throttled.

The walk at the end covers every GET route with a path parameter that the API describes: a route
added later fails here until it is given its kind of record (and so its rule)."""
import json
import urllib.parse

import pytest

from conftest import ADMIN_PW, DEMO_PW, Client, execute, on_call, query, wait_until

SH_MANAGER, BJ_MANAGER = "zhoujun1", "zhoujie2"  # 上海分公司, 北京分公司 (branch managers, subtree)


@pytest.fixture(scope="module")
def users(anon):
    names = ["zhangwei", SH_MANAGER, BJ_MANAGER, "liuyang", "chenjing", "lina", "sunhui"]
    return {n: anon.login(n, DEMO_PW) for n in names} | {"admin": anon.login("admin", ADMIN_PW)}


@pytest.fixture(scope="module")
def world(server, users):
    """A Beijing customer who called liuyang (a hotline agent at headquarters), the call, and a
    web chat he opened that nobody has taken yet."""
    hq, liu = users["zhangwei"], users["liuyang"]
    bj = untouched_beijing_customer(users)
    phone = hq.get(f"/api/v1/crm/customers/{bj['id']}?unmask=true").json()["phones"][0]["number"]
    lead = Client(server["base"]).login("lina", DEMO_PW)  # liuyang's team leader, her own session
    assert lead.get(f"/api/v1/crm/customers/{bj['id']}").status == 404
    with on_call(server["base"], liu, phone) as call:
        during = {p: liu.get(p.format(id=bj["id"])).status for p in CUSTOMER_ROUTES}
        pop = liu.get(f"/api/v1/crm/screen-pop?phone={phone}").json()["customers"]
        # His team leader listens in: for as long as she does, the caller's file is hers too.
        assert lead.post("/api/v1/cti/supervisor/monitor", {"agent": "liuyang", "mode": "listen"}).status == 200
        wait_until(lambda: any("supervisor:up" in leg["what"] for leg in liu.get("/api/v1/cti/me").json()["call"]["legs"]),
                   what="the supervisor's listening leg to be up")
        monitored = lead.get(f"/api/v1/crm/customers/{bj['id']}").status
        lead.post("/api/v1/cti/supervisor/stop", {})
    # The chat waits in its queue: an agent of it is signed in, not ready.
    huang = Client(server["base"]).login("huangmin", DEMO_PW)
    assert huang.post("/api/v1/cti/agent/sign-in", {}).status == 200
    try:
        chat = users["lina"].post("/api/v1/cti/conversations", {"channel": "chat", "queue": "webchat",
                                                                "customer": phone, "body": "你好，我想问一下两融的额度"})
        assert chat.status == 201, chat.body
        yield {"customer": bj["id"], "phone": phone, "call": call["id"], "chat": chat.json()["id"],
               "during": during, "pop": pop, "monitored": monitored}
        users["lina"].post(f"/api/v1/cti/conversations/{chat.json()['id']}/leave", {})
    finally:
        huang.post("/api/v1/cti/agent/sign-out", {})


def untouched_beijing_customer(users, but=()):
    """A Beijing customer with a phone whom no other test has served: neither liuyang nor lina may
    open his file yet."""
    for c in users[BJ_MANAGER].get("/api/v1/crm/customers?page_size=50&sort=-id").json()["items"]:
        if c["id"] not in but and c["phones"] and all(users[n].get(f"/api/v1/crm/customers/{c['id']}").status == 404
                                      for n in ("liuyang", "lina")):
            return c
    raise AssertionError("every Beijing customer has been served already")


CUSTOMER_ROUTES = ["/api/v1/crm/customers/{id}", "/api/v1/crm/customers/{id}/contacts",
                   "/api/v1/crm/customers/{id}/trades"]


def test_the_agent_on_the_call_opens_the_callers_file_and_the_opening_is_logged(world, users):
    assert world["during"] == {p: 200 for p in CUSTOMER_ROUTES}, world["during"]
    assert world["monitored"] == 200  # the supervisor who listened in
    assert [c["id"] for c in world["pop"]] == [world["customer"]]
    # After the call, for the grace period (wrap-up, ticket), it stays open to him.
    liu = users["liuyang"]
    assert liu.get(f"/api/v1/crm/customers/{world['customer']}").status == 200
    assert liu.get(f"/api/v1/cti/history?number={world['phone']}").status == 200
    # Compliance sees who opened it, when, on which call.
    log = users["sunhui"].get(f"/api/v1/crm/customers/{world['customer']}/access-log").json()["items"]
    bases = {(i["actor_name"], i["detail"].get("basis")) for i in log if i["action"] == "serve.open"}
    assert ("liuyang", f"call:{world['call']}") in bases, log
    assert {i["detail"]["what"] for i in log if i["action"] == "serve.open"} >= {"profile", "contacts", "trades", "screen_pop"}
    # The log is for compliance only.
    for name in ("liuyang", SH_MANAGER, BJ_MANAGER):
        assert users[name].get(f"/api/v1/crm/customers/{world['customer']}/access-log").status == 403


def test_an_agent_without_an_interaction_finds_nothing_by_id_or_number(world, users):
    chen = users["chenjing"]  # an agent of the same hotline who never spoke to him
    for p in CUSTOMER_ROUTES:
        r = chen.get(p.format(id=world["customer"]))
        assert r.status == 404 and r.error["code"] == "not_found", (p, r.status)
    assert chen.get(f"/api/v1/crm/customers/999999999").status == 404  # exactly like a missing one
    assert chen.get(f"/api/v1/crm/screen-pop?phone={world['phone']}").json()["customers"] == []
    fund = users["zhangwei"].get(f"/api/v1/crm/customers/{world['customer']}?unmask=true").json()["fund_account"]
    assert chen.get(f"/api/v1/crm/screen-pop?fund_account={fund}").json()["customers"] == []
    assert chen.get(f"/api/v1/cti/history?number={world['phone']}").status == 404
    assert chen.get(f"/api/v1/cti/calls/{world['call']}").status == 404
    assert chen.get(f"/api/v1/cti/calls/{world['call']}/recording").status == 404
    assert chen.get(f"/api/v1/cti/conversations/{world['chat']}").status == 404


def test_branches_see_their_own_customers_calls_and_history_and_not_the_others(world, users):
    sh, bj = users[SH_MANAGER], users[BJ_MANAGER]
    for p in CUSTOMER_ROUTES:
        assert bj.get(p.format(id=world["customer"])).status == 200, p
        assert sh.get(p.format(id=world["customer"])).status == 404, p
    # The call of a Beijing customer: Beijing reads it (his customer); Shanghai does not, though
    # it supervises agents (not the hotline's, nor this customer).
    assert bj.get(f"/api/v1/cti/calls/{world['call']}").status == 200
    assert sh.get(f"/api/v1/cti/calls/{world['call']}").status == 404
    assert bj.get(f"/api/v1/cti/conversations/{world['chat']}").status == 200
    assert sh.get(f"/api/v1/cti/conversations/{world['chat']}").status == 404
    assert [c["id"] for c in bj.get(f"/api/v1/cti/history?number={world['phone']}").json()["items"]].count(world["call"]) == 1
    assert world["call"] not in [c["id"] for c in sh.get(f"/api/v1/cti/history?number={world['phone']}").json()["items"]]
    # Headquarters sees all of it.
    hq = users["zhangwei"]
    assert hq.get(f"/api/v1/cti/calls/{world['call']}").status == 200
    assert hq.get(f"/api/v1/crm/customers/{world['customer']}").status == 200


def test_an_emergency_opening_needs_the_permission_and_a_reason_and_is_reported(world, users, server):
    # Another Beijing customer than the walk's, whom lina (a team leader: complaints are hers)
    # has never served.
    cid = untouched_beijing_customer(users, but=(world["customer"],))["id"]
    lina = users["lina"]
    assert lina.get(f"/api/v1/crm/customers/{cid}").status == 404
    assert users["chenjing"].post(f"/api/v1/crm/customers/{cid}/emergency-access",
                                  {"reason": "客户投诉调查，需要核对历史记录"}).status == 403
    short = lina.post(f"/api/v1/crm/customers/{cid}/emergency-access", {"reason": "查"})
    assert short.status == 422 and short.error["field"] == "reason"
    assert lina.post("/api/v1/crm/customers/999999999/emergency-access",
                     {"reason": "客户投诉调查，需要核对历史记录"}).status == 404
    r = lina.post(f"/api/v1/crm/customers/{cid}/emergency-access", {"reason": "客户投诉调查，需要核对上月的通话与交易记录"})
    assert r.status == 201, r.body
    assert lina.get(f"/api/v1/crm/customers/{cid}").status == 200
    assert lina.get(f"/api/v1/crm/customers/{cid}/trades").status == 200
    report = users["sunhui"].get("/api/v1/crm/emergency-access").json()["items"]
    mine = [i for i in report if i["username"] == "lina" and i["customer_id"] == cid]
    assert mine and mine[-1]["reason"].startswith("客户投诉调查") and int(mine[-1]["openings"]) >= 2, report
    log = users["sunhui"].get(f"/api/v1/crm/customers/{cid}/access-log").json()["items"]
    assert any(i["action"] == "serve.emergency" and i["actor_name"] == "lina" for i in log)
    assert any(i["action"] == "serve.open" and i["detail"]["basis"] == f"emergency:{r.json()['id']}" for i in log)
    assert users["sunhui"].get("/api/v1/crm/emergency-access?date=2026-13-01").status == 400


def test_a_session_that_keeps_asking_for_customers_not_its_own_is_throttled_and_reported(anon, server):
    prober = anon.login("yangli", DEMO_PW)  # an agent
    # Reads and writes alike; the twentieth miss comes inside a write transaction.
    statuses = [prober.get(f"/api/v1/crm/customers/{900000000 + i}").status for i in range(10)]
    statuses += [prober.post(f"/api/v1/crm/customers/{900000000 + i}/contacts", {"summary": "试探"}).status
                 for i in range(10)]
    assert statuses == [404] * 20
    r = prober.get("/api/v1/crm/customers/1")
    assert r.status == 429 and r.error["code"] == "throttled", r.body
    assert prober.get("/api/v1/crm/screen-pop?phone=13610000001").status == 429
    rows = query(server["db"], "SELECT actor_name FROM audit_log WHERE action = 'serve.enumeration'")
    assert ("yangli",) in rows, rows
    # Another session of the same person starts clean (the throttle is the session's).
    assert anon.login("yangli", DEMO_PW).get("/api/v1/crm/customers/900000001").status == 404


# ---- the walk over every read route ----

# Every GET route with a path parameter that is not a registry entity's, with the kind of record
# its id names. A new route must be added here, with its rule checked below.
ROUTE_KINDS = {
    "/api/v1/crm/customers/{id}": "customer",
    "/api/v1/crm/customers/{id}/contacts": "customer",
    "/api/v1/crm/customers/{id}/trades": "customer",
    "/api/v1/crm/customers/{id}/access-log": "customer_audit",
    "/api/v1/cti/calls/{id}": "call",
    "/api/v1/cti/calls/{id}/recording": "recording",
    "/api/v1/cti/conversations/{id}": "conversation",
    "/api/v1/staff/{id}/roles": "staff",
    "/api/v1/reviews/{id}": "review",
    "/api/v1/tickets/{id}": "ticket",
    "/api/v1/workflows/{code}": "workflow",
    "/api/v1/messages/{id}": "message",
}


def test_every_read_route_keeps_to_scope_and_interaction(world, users, anon, server):
    api = anon.get("/api/openapi.json").json()
    entities = {e["name"] for e in users["admin"].get("/api/v1/meta").json()["entities"]}
    unclassified = []
    entity_routes = []
    for path, item in api["paths"].items():
        op = item.get("get")
        if not op or "{" not in path:
            continue
        if op["tags"][0] in entities and path.endswith("/{id}"):
            entity_routes.append((op["tags"][0], path))
        elif path.startswith("/api/v1/meta/"):
            continue  # field descriptions, no records
        elif path not in ROUTE_KINDS:
            unclassified.append(path)
    assert not unclassified, f"classify these read routes in ROUTE_KINDS: {unclassified}"
    assert len(entity_routes) >= 10, entity_routes

    bj_staff = users["admin"].get(f"/api/v1/staff?username={BJ_MANAGER}").json()["items"][0]["id"]
    # A ticket liuyang registered about the Beijing customer: it belongs to the customer's branch.
    r = users["liuyang"].post("/api/v1/tickets", {"type": "consult", "title": "客户来电咨询", "customer_id": world["customer"]})
    assert r.status == 201, r.body
    # A message liuyang sent the customer (written behind kefud's back: this kefud has no e-mail account).
    liuyang = users["admin"].get("/api/v1/staff?username=liuyang").json()["items"][0]["id"]
    message = execute(server["db"], "INSERT INTO notify_message (channel, account, type, priority, recipient, customer_id, "
                      "subject, body, status, cause, created_by, created_at) VALUES ('email', 'smtp', 'service', 4, "
                      f"'c@example.com', {world['customer']}, '回复', '内容', 'sent', 'api', {liuyang}, 0) RETURNING id")[0][0]
    ids = {"customer": world["customer"], "customer_audit": world["customer"], "call": world["call"],
           "recording": world["call"], "conversation": world["chat"], "staff": bj_staff, "review": 999999999,
           "ticket": r.json()["id"], "workflow": "general", "message": message}
    # Who may read a Beijing record of each kind: 200 (or 404 for a call recorded on no node:
    # simulated calls have no audio), everyone else 403 or 404, never the record.
    allowed = {
        "customer": {"zhangwei", BJ_MANAGER, "liuyang", "lina"},  # lina listened in (grace)
        "customer_audit": {"sunhui"},
        "call": {"zhangwei", BJ_MANAGER, "liuyang", "lina"},  # lina leads liuyang's team
        "recording": set(),  # nobody gets audio of a simulated call; the rule is the call's
        "conversation": {"zhangwei", BJ_MANAGER, "lina"},
        "staff": {"zhangwei", BJ_MANAGER},
        "review": set(),
        "ticket": {"zhangwei", BJ_MANAGER, "liuyang"},  # headquarters, the customer's branch, its creator
        "workflow": set(users) - {"admin"},
        "message": {"zhangwei", "liuyang"},  # notify:read, and its sender  # definitions are configuration, not customer data
    }
    seen = {}
    for path, kind in ROUTE_KINDS.items():
        for name, client in users.items():
            if name == "admin":
                continue
            status = client.get(path.replace("{id}", str(ids[kind])).replace("{code}", str(ids[kind]))).status
            seen[(path, name)] = status
            if name in allowed[kind]:
                assert status == 200, (path, name, status)
            else:
                assert status in (403, 404), (path, name, status)

    # A registry entity's record by id never shows more than the user's list of it.
    for entity, path in sorted(entity_routes):
        some = users["admin"].get(f"/api/v1/{entity}?page_size=3").json()["items"]
        for name in (SH_MANAGER, BJ_MANAGER, "chenjing"):
            client = users[name]
            listed = client.get(f"/api/v1/{entity}?page_size=200")
            visible = {r["id"] for r in listed.json()["items"]} if listed.status == 200 else set()
            for rec in some:
                status = client.get(path.replace("{id}", str(rec["id"]))).status
                if listed.status == 200 and listed.json()["total"] <= 200:
                    assert (status == 200) == (rec["id"] in visible), (entity, name, rec["id"], status)
                else:
                    assert status in (200, 403, 404), (entity, name, status)
