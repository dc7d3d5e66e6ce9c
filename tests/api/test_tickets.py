"""Tickets (受理单) and their workflow through the API: a ticket about a customer walks from the
agent who took the call to the customer's branch and back, complaints follow their own process,
bad input changes nothing, two completions of one task never both win, deadlines remind and
escalate on a kefud whose SLA minute is short."""
import re
import threading

import pytest

from conftest import ADMIN_PW, DEMO_PW, Client, Kefud, WsReader, new_database, query, wait_until

AGENT, LEADER, HQ = "liuyang", "lina", "zhangwei"
SH_MANAGER, BJ_MANAGER = "zhoujun1", "zhoujie2"


@pytest.fixture(scope="module")
def agent(anon):
    return anon.login(AGENT, DEMO_PW)


@pytest.fixture(scope="module")
def sh(anon):
    return anon.login(SH_MANAGER, DEMO_PW)


@pytest.fixture(scope="module")
def bj(anon):
    return anon.login(BJ_MANAGER, DEMO_PW)


@pytest.fixture(scope="module")
def lead(anon):
    return anon.login(LEADER, DEMO_PW)


def shanghai_customer(db):
    rows = query(db, "SELECT c.id FROM crm_customer c JOIN org_unit o ON o.id = c.org_id "
                     "WHERE o.path LIKE (SELECT path FROM org_unit WHERE code = 'SH') || '%' ORDER BY c.id LIMIT 1")
    return int(rows[0][0])


def act(client, ticket, action, **body):
    t = client.get(f"/api/v1/tickets/{ticket}").json()
    body.setdefault("version", t["version"])
    return client.post(f"/api/v1/tickets/{ticket}/actions/{action}", body)


def live_task(client, ticket, node):
    t = client.get(f"/api/v1/tickets/{ticket}").json()
    tasks = [k for k in t["tasks"] if k["node"] == node and k["status"] in ("open", "started")]
    assert len(tasks) == 1, t["tasks"]
    return tasks[0]


def test_a_ticket_from_a_call_goes_to_the_customers_branch_and_back_to_the_agent(agent, sh, bj, hq_client, server):
    customer = shanghai_customer(server["db"])
    r = agent.post("/api/v1/tickets", {"type": "consult", "title": "咨询融资融券开户条件", "customer_id": customer,
                                       "phone": "13610000002", "channel": "phone", "description": "客户来电询问"})
    assert r.status == 201, r.body
    ticket = r.json()["id"]
    assert re.fullmatch(r"ZX\d{8}\d{6}", r.json()["no"])

    accept = live_task(agent, ticket, "accept")
    assert accept["staff_id"] is not None and accept["staff_name"] == "刘洋"
    assert act(agent, ticket, "complete", task=accept["task"], comment="已记录").status == 200

    # 处理 goes to the branch manager of the customer's branch, not the agent's.
    handle = live_task(agent, ticket, "handle")
    assert handle["staff_name"] == "周军"
    todo = sh.get("/api/v1/tickets?view=todo").json()["items"]
    assert ticket in [t["id"] for t in todo]
    assert bj.get(f"/api/v1/tickets/{ticket}").status == 404  # another branch: as if it did not exist
    assert ticket not in [t["id"] for t in bj.get("/api/v1/tickets?view=team").json()["items"]]
    assert ticket in [t["id"] for t in sh.get("/api/v1/tickets?view=team").json()["items"]]
    r = act(agent, ticket, "complete", task=handle["task"])
    assert r.status == 403 and r.error["code"] == "not_yours"
    assert act(sh, ticket, "complete", task=handle["task"], comment="已电话答复").status == 200

    visit = live_task(agent, ticket, "visit")
    assert visit["staff_name"] == "刘洋"
    r = act(agent, ticket, "complete", task=visit["task"])
    assert r.status == 200 and r.json()["status"] == "closed"

    t = agent.get(f"/api/v1/tickets/{ticket}").json()
    assert t["status"] == "closed" and t["closed_at"]
    assert t["workflow"]["trail"] == ["s", "accept", "handle", "visit", "e"] and t["workflow"]["current"] == []
    assert [h["action"] for h in t["history"]] == ["create", "complete", "complete", "complete"]
    assert ticket in [x["id"] for x in agent.get("/api/v1/tickets?view=done").json()["items"]]
    # A line in the customer's contact history, and every step in the operation log.
    contacts = hq_client.get(f"/api/v1/crm/customers/{customer}/contacts").json()["items"]
    assert any(c["channel"] == "ticket" and t["no"] in (c.get("summary") or "") for c in contacts), contacts
    actions = query(server["db"], f"SELECT action FROM audit_log WHERE entity = 'ticket' AND entity_id = {ticket} ORDER BY id")
    assert [a[0] for a in actions] == ["create", "complete", "complete", "complete"]

    # 重新打开: the creator reopens it within the type's days; it goes back to 处理.
    assert act(agent, ticket, "reopen").status == 200
    assert live_task(agent, ticket, "handle")["staff_name"] == "周军"


@pytest.fixture(scope="module")
def hq_client(anon):
    return anon.login(HQ, DEMO_PW)


def test_a_major_complaint_needs_the_leaders_review_and_never_reaches_the_person_complained_about(agent, lead, anon, server):
    chenjing = int(query(server["db"], "SELECT id FROM staff WHERE username = 'chenjing'")[0][0])
    r = agent.post("/api/v1/tickets", {"type": "complaint", "title": "投诉座席态度", "channel": "phone",
                                       "fields": {"severity": "major"}})
    assert r.status == 422 and r.error["field"] == "fields.complaint_source"
    r = agent.post("/api/v1/tickets", {"type": "complaint", "title": "投诉座席态度", "channel": "phone",
                                       "fields": {"complaint_source": "hotline", "severity": "major",
                                                  "complained_staff_id": chenjing}})
    assert r.status == 201, r.body
    ticket = r.json()["id"]
    assert r.json()["no"].startswith("TS")
    t = agent.get(f"/api/v1/tickets/{ticket}").json()
    # 15 calendar days, whatever the calendar says.
    assert t["sla"]["resolve_due"] - t["created_at"] == 15 * 86400 * 1000

    assert act(agent, ticket, "complete", task=live_task(agent, ticket, "accept")["task"]).status == 200
    review = live_task(agent, ticket, "review")
    assert review["staff_name"] == "李娜" and review["kind"] == "approval"
    r = act(lead, ticket, "complete", task=review["task"], outcome="maybe")
    assert r.status == 422 and r.error["code"] == "invalid_outcome"
    assert act(lead, ticket, "complete", task=review["task"], outcome="reject", comment="请补充录音").status == 200
    accept = live_task(agent, ticket, "accept")  # 退回受理
    assert act(agent, ticket, "complete", task=accept["task"], fields={"severity": "minor"}).status == 200

    # Minor now: straight to handling, in the hotline team's queue (headquarters has no branch).
    handle = live_task(agent, ticket, "handle")
    assert handle["group_name"] == "热线一组" and handle["staff_id"] is None
    chen = anon.login("chenjing", DEMO_PW)
    r = act(chen, ticket, "claim", task=handle["task"])
    assert r.status == 403 and r.error["code"] == "complained_about"
    r = act(chen, ticket, "transfer", task=handle["task"], to_staff="chenjing")
    assert r.status == 422 and r.error["code"] == "complained_about"
    yang = anon.login("yangli", DEMO_PW)
    r = act(yang, ticket, "complete", task=handle["task"])
    assert r.status == 403 and r.error["code"] == "claim_first"
    assert act(yang, ticket, "claim", task=handle["task"]).status == 200
    r = act(yang, ticket, "complete", task=handle["task"])
    assert r.status == 422 and {d["field"] for d in r.error["details"]} == {"fields.result", "fields.root_cause"}
    # 征求意见: an opinion is asked and must come back before the step is done.
    assert act(yang, ticket, "consult", task=handle["task"], to_staff="lina", comment="是否需要补偿?").status == 200
    r = act(yang, ticket, "complete", task=handle["task"], fields={"result": "已致歉", "root_cause": "服务用语"})
    assert r.status == 409 and r.error["code"] == "opinion_pending"
    opinion = [k for k in lead.get(f"/api/v1/tickets/{ticket}").json()["tasks"] if k["kind"] == "opinion"][0]
    assert act(lead, ticket, "complete", task=opinion["task"], outcome="无需补偿").status == 200
    assert act(yang, ticket, "complete", task=handle["task"], fields={"result": "已致歉", "root_cause": "服务用语"}).status == 200
    visit = live_task(agent, ticket, "visit")
    assert act(agent, ticket, "complete", task=visit["task"], fields={"satisfaction": "loud"}).status == 422
    assert act(agent, ticket, "complete", task=visit["task"], fields={"satisfaction": "satisfied"}).status == 200
    t = agent.get(f"/api/v1/tickets/{ticket}").json()
    assert t["status"] == "closed" and t["fields"]["result"] == "已致歉"
    assert t["workflow"]["trail"][:6] == ["s", "accept", "grade", "review", "accept", "grade"]


def test_withdraw_works_until_the_next_holder_takes_the_task_up(agent, anon):
    t = agent.post("/api/v1/tickets", {"type": "service", "title": "修改预留手机号"}).json()["id"]
    accept = live_task(agent, t, "accept")
    assert act(agent, t, "complete", task=accept["task"]).status == 200
    assert act(agent, t, "withdraw", task=accept["task"]).status == 200  # 撤回
    accept = live_task(agent, t, "accept")
    assert act(agent, t, "complete", task=accept["task"]).status == 200
    handle = live_task(agent, t, "handle")
    yang = anon.login("yangli", DEMO_PW)
    assert act(yang, t, "claim", task=handle["task"]).status == 200
    r = act(agent, t, "withdraw", task=accept["task"])
    assert r.status == 409 and r.error["code"] == "cannot_withdraw"
    # 退回 to an earlier step, then waiting for the customer stops the clock.
    r = act(yang, t, "return", task=handle["task"], node="visit")
    assert r.status == 422 and r.error["code"] == "invalid_return"
    assert act(yang, t, "return", task=handle["task"], node="accept", comment="请补充身份证号").status == 200
    live_task(agent, t, "accept")
    assert act(agent, t, "wait_customer").status == 200
    got = agent.get(f"/api/v1/tickets/{t}").json()
    assert got["status"] == "waiting_customer" and got["sla"]["paused"]
    assert act(agent, t, "customer_replied").status == 200
    assert agent.get(f"/api/v1/tickets/{t}").json()["status"] == "open"


def test_bad_input_gets_a_clear_error_and_changes_nothing(agent, bj, admin, server):
    count = lambda: int(query(server["db"], "SELECT COUNT(*) FROM ticket")[0][0])  # noqa: E731
    before = count()
    for body, field, code in [
        ({"type": "nosuch", "title": "x"}, "type", "unknown_type"),
        ({"type": "consult"}, "title", "required"),
        ({"type": "consult", "title": "x", "priority": 9}, "priority", "out_of_range"),
        ({"type": "consult", "title": "x", "fields": {"colour": "red"}}, "fields.colour", "unknown_field"),
        ({"type": "consult", "title": "x", "customer_id": 99999999}, "customer_id", "unknown_reference"),
        ({"type": "consult", "title": "x", "channel": "pigeon"}, "channel", "invalid_option"),
        ({"type": "consult", "title": "x", "surprise": 1}, "surprise", None),
    ]:
        r = agent.post("/api/v1/tickets", body)
        assert r.status == 422 and r.error["field"] == field, (body, r.body)
        if code:
            assert r.error["code"] == code
    assert count() == before

    t = agent.post("/api/v1/tickets", {"type": "consult", "title": "旧版本"}).json()
    accept = live_task(agent, t["id"], "accept")
    r = agent.post(f"/api/v1/tickets/{t['id']}/actions/complete", {"version": t["version"] + 5, "task": accept["task"]})
    assert r.status == 409 and r.error["code"] == "stale_version"
    r = act(agent, t["id"], "fly", task=accept["task"])
    assert r.status == 404
    assert bj.post(f"/api/v1/tickets/{t['id']}/actions/note", {"text": "看看"}).status == 404
    assert agent.get("/api/v1/tickets?view=everything").status == 422
    assert agent.get("/api/v1/tickets?view=team").status == 403  # agents see their own, not the team's

    # A definition is checked whole: every error at once, with its place.
    r = admin.post("/api/v1/workflows", {"code": "broken", "definition": {
        "start": "s", "nodes": {"s": {"type": "start"}, "a": {"type": "task", "assignee": {"rule": "role", "role": "nobody"}},
                                "b": {"type": "task", "assignee": {"rule": "creator"}}},
        "transitions": [{"from": "s", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "a"},
                        {"from": "a", "to": "ghost"}]}})
    assert r.status == 422
    assert {(d["field"], d["code"]) for d in r.error["details"]} >= {("nodes.a.assignee.role", "unknown_role"),
                                                                   ("transitions[3].to", "unknown_node")}
    r = admin.post("/api/v1/workflows", {"code": "loop", "definition": {
        "start": "s", "nodes": {"s": {"type": "start"}, "a": {"type": "task", "assignee": {"rule": "creator"}},
                                "b": {"type": "task", "assignee": {"rule": "creator"}}, "e": {"type": "end"}},
        "transitions": [{"from": "s", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}})
    assert r.status == 422 and {d["code"] for d in r.error["details"]} >= {"no_way_to_end", "unreachable"}
    assert query(server["db"], "SELECT COUNT(*) FROM wf_definition WHERE code IN ('broken', 'loop')")[0][0] == "0"


def test_a_retried_create_makes_one_ticket_and_of_two_completions_one_wins(agent, server):
    key = {"Idempotency-Key": "ticket-retry-1"}
    a = agent.post("/api/v1/tickets", {"type": "consult", "title": "重试"}, headers=key)
    b = agent.post("/api/v1/tickets", {"type": "consult", "title": "重试"}, headers=key)
    assert a.status == b.status == 201 and a.json()["id"] == b.json()["id"]
    assert b.headers.get("Idempotent-Replayed") == "true"

    t = a.json()["id"]
    accept = live_task(agent, t, "accept")
    version = agent.get(f"/api/v1/tickets/{t}").json()["version"]
    results = []

    def complete():
        results.append(agent.post(f"/api/v1/tickets/{t}/actions/complete", {"version": version, "task": accept["task"]}))

    threads = [threading.Thread(target=complete) for _ in range(4)]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert sorted(r.status for r in results) == [200, 409, 409, 409], [r.body for r in results]
    assert int(query(server["db"], f"SELECT COUNT(*) FROM ticket_task WHERE ticket_id = {t} AND node = 'handle'")[0][0]) == 1


def test_a_new_workflow_version_applies_to_new_tickets_only(agent, admin):
    old = agent.post("/api/v1/tickets", {"type": "suggestion", "title": "建议增加夜间服务"}).json()["id"]
    v = admin.get("/api/v1/workflows/general").json()
    body = v["definition"]
    body["name"] = "通用受理流程(二)"
    r = admin.post("/api/v1/workflows", {"code": "general", "definition": body})
    assert r.status == 201 and r.json()["version"] == v["version"] + 1
    new = agent.post("/api/v1/tickets", {"type": "suggestion", "title": "建议增加英文服务"}).json()["id"]
    assert agent.get(f"/api/v1/tickets/{old}").json()["workflow"]["version"] == v["version"]
    assert agent.get(f"/api/v1/tickets/{new}").json()["workflow"]["version"] == v["version"] + 1


def test_an_outside_system_completes_the_task_handed_to_it_once(agent, admin):
    flow = {"name": "转OA", "start": "s", "nodes": {
        "s": {"type": "start"}, "oa": {"type": "external", "name": "OA审批", "system": "oa"},
        "visit": {"type": "task", "assignee": {"rule": "creator"}}, "e": {"type": "end"}},
        "transitions": [{"from": "s", "to": "oa"}, {"from": "oa", "to": "visit", "if": "outcome == 'approved'"},
                        {"from": "oa", "to": "e"}, {"from": "visit", "to": "e"}]}
    assert admin.post("/api/v1/workflows", {"code": "to_oa", "definition": flow}).status == 201
    assert admin.post("/api/v1/ticket_type", {"code": "oa_request", "name": "OA事项", "workflow": "to_oa",
                                              "prefix": "OA"}).status == 201
    t = agent.post("/api/v1/tickets", {"type": "oa_request", "title": "申请资料调阅"}).json()["id"]
    task = live_task(agent, t, "oa")
    assert task["system"] == "oa"
    r = agent.post(f"/api/v1/tickets/{t}/tasks/{task['task']}/external-complete", {"outcome": "approved"})
    assert r.status == 403  # only the outside system's token
    key = {"Idempotency-Key": f"oa-{t}-{task['task']}"}
    a = admin.post(f"/api/v1/tickets/{t}/tasks/{task['task']}/external-complete", {"outcome": "approved"}, headers=key)
    b = admin.post(f"/api/v1/tickets/{t}/tasks/{task['task']}/external-complete", {"outcome": "approved"}, headers=key)
    assert a.status == b.status == 200 and b.headers.get("Idempotent-Replayed") == "true"
    live_task(agent, t, "visit")
    history = [h["action"] for h in agent.get(f"/api/v1/tickets/{t}").json()["history"]]
    assert history.count("external.completed") == 1 and "external.sent" in history


@pytest.fixture(scope="module")
def quick():
    """A kefud of its own whose SLA minute lasts 50 ms, so deadlines pass while the test watches."""
    k = Kefud(new_database(), KEFU_TICKET_MINUTE_MS="50", KEFU_TICKET_TIMER_POLL_MS="20").start()
    yield k
    k.stop()


def test_a_deadline_reminds_then_escalates_up_the_line_and_waiting_for_the_customer_stops_it(quick):
    anon = Client(quick.base)
    admin = anon.login("admin", ADMIN_PW)
    # 20 SLA minutes (1 s here), reminder 10 minutes before, escalation every 10 minutes.
    assert admin.post("/api/v1/ticket_type", {"code": "callback", "name": "回电", "workflow": "general", "prefix": "HD",
                                              "resolve_amount": 20, "resolve_unit": "minutes",
                                              "remind_before_minutes": 10, "escalate_every_minutes": 10}).status == 201
    agent = anon.login(AGENT, DEMO_PW)
    lead = anon.login(LEADER, DEMO_PW)
    ws = WsReader(quick.base, lead.token)
    try:
        t = agent.post("/api/v1/tickets", {"type": "callback", "title": "客户要求回电"}).json()["id"]
        get = lambda: agent.get(f"/api/v1/tickets/{t}").json()  # noqa: E731
        actions = lambda: [(h["action"], h["detail"].get("level")) for h in get()["history"]]  # noqa: E731
        wait_until(lambda: ("sla.escalate", 2) in actions(), timeout=20,
                   what="the reminder and two escalations of the overdue ticket", show=actions)
        seen = actions()
        assert seen.index(("sla.remind", None)) < seen.index(("sla.escalate", 1)) < seen.index(("sla.escalate", 2))
        history = get()["history"]
        first = [h for h in history if h["action"] == "sla.escalate"][0]
        lina = int(query(quick.db, "SELECT id FROM staff WHERE username = 'lina'")[0][0])
        assert first["detail"]["to"] == [lina]  # the agent's team leader first, then upward
        assert get()["sla"]["overdue"] and get()["sla"]["escalation"] >= 2
        assert t in [x["id"] for x in lead.get("/api/v1/tickets?view=overdue").json()["items"]]
        assert any(e.get("type") == "ticket.changed" and e["data"]["id"] == t for e in ws.events(1.0))
    finally:
        ws.close()

    # Waiting for the customer: the clock stops, nothing more escalates; the answer restarts it.
    t2 = agent.post("/api/v1/tickets", {"type": "callback", "title": "等待客户资料"}).json()["id"]
    assert act(agent, t2, "wait_customer").status == 200
    assert query(quick.db, f"SELECT COUNT(*) FROM ticket_timer WHERE ticket_id = {t2}")[0][0] == "0"
    assert act(agent, t2, "customer_replied").status == 200
    due = agent.get(f"/api/v1/tickets/{t2}").json()["sla"]["resolve_due"]
    assert due and int(query(quick.db, f"SELECT COUNT(*) FROM ticket_timer WHERE ticket_id = {t2}")[0][0]) >= 1


def test_kill_9_in_the_middle_of_transitions_leaves_each_done_or_not_done():
    """Agents complete tasks and register tickets while kefud is killed with SIGKILL; after the
    restart every ticket's process state, its task rows, its history and the operation log agree."""
    import json as _json
    import random
    import time

    k = Kefud(new_database()).start()
    try:
        anon = Client(k.base)
        agent = anon.login(AGENT, DEMO_PW)
        made = [agent.post("/api/v1/tickets", {"type": "service", "title": f"批量{i}"}).json()["id"] for i in range(20)]
        stop = threading.Event()

        def work(seed):
            rnd = random.Random(seed)
            c = Client(k.base, agent.token)
            while not stop.is_set():
                try:
                    if rnd.random() < 0.3:
                        c.post("/api/v1/tickets", {"type": "service", "title": "并发登记"})
                        continue
                    t = rnd.choice(made)
                    got = c.get(f"/api/v1/tickets/{t}").json()
                    mine = [x for x in got["tasks"] if x["status"] in ("open", "started") and x["staff_name"] == "刘洋"]
                    if mine:
                        c.post(f"/api/v1/tickets/{t}/actions/complete", {"version": got["version"], "task": mine[0]["task"]})
                except Exception:
                    return  # the server is gone

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        [th.start() for th in threads]
        wait_until(lambda: int(query(k.db, "SELECT COUNT(*) FROM ticket_event")[0][0]) > 60, timeout=30,
                   what="the agents to have made some progress")
        time.sleep(random.random() * 0.3)  # anywhere within the traffic
        k.kill()
        stop.set()
        [th.join(timeout=10) for th in threads]
        k.start()

        tickets = query(k.db, "SELECT id, wf_state, status FROM ticket ORDER BY id")
        assert len(tickets) >= 20
        for tid, state, status in tickets:
            st = _json.loads(state)
            rows = {int(seq): s for seq, s in query(k.db, f"SELECT seq, status FROM ticket_task WHERE ticket_id = {tid}")}
            assert rows == {t["id"]: t["status"] for t in st["tasks"]}, (tid, rows, st["tasks"])
            assert (status == "closed") == (st["status"] == "ended"), (tid, status, st["status"])
            done = sum(1 for t in st["tasks"] if t["status"] == "done")
            completes = int(query(k.db, f"SELECT COUNT(*) FROM ticket_event WHERE ticket_id = {tid} AND action = 'complete'")[0][0])
            assert completes == done, (tid, completes, done)
            audited = int(query(k.db, f"SELECT COUNT(*) FROM audit_log WHERE entity = 'ticket' AND entity_id = {tid}")[0][0])
            assert audited == 1 + completes, (tid, audited, completes)
        # The operation log's hash chain is whole.
        admin = anon.login("admin", ADMIN_PW)
        r = admin.get("/api/v1/audit/verify")
        assert r.status == 200 and r.json()["ok"], r.body
    finally:
        if k.proc and k.proc.poll() is None:
            k.stop()


def test_a_ticket_handed_to_the_oa_waits_out_an_outage_and_continues_when_the_oa_completes_it():
    """The round trip with the reference OA (kefu-oa-sim, its own process): the hand-off is pushed,
    signed; the OA is down at first (nothing lost, retried with back-off); it comes up, takes the
    hand-off, completes the task through the API with its own token, and the ticket goes on."""
    import os
    import subprocess

    from conftest import BUILD, free_port

    oa_port = free_port()
    secret = "oa-secret-0123456789"
    k = Kefud(new_database(), KEFU_TICKET_OA_URL=f"http://127.0.0.1:{oa_port}/kefu/handoff",
              KEFU_TICKET_OA_SECRET=secret, KEFU_TICKET_TIMER_POLL_MS="50").start()
    sim = None
    try:
        anon = Client(k.base)
        admin = anon.login("admin", ADMIN_PW)
        flow = {"name": "转OA", "start": "s", "nodes": {
            "s": {"type": "start"}, "oa": {"type": "external", "name": "OA审批", "system": "oa"},
            "visit": {"type": "task", "name": "回访", "assignee": {"rule": "creator"}}, "e": {"type": "end"}},
            "transitions": [{"from": "s", "to": "oa"}, {"from": "oa", "to": "visit", "if": "outcome == 'approved'"},
                            {"from": "oa", "to": "e"}, {"from": "visit", "to": "e"}]}
        assert admin.post("/api/v1/workflows", {"code": "to_oa", "definition": flow}).status == 201
        assert admin.post("/api/v1/ticket_type", {"code": "oa_request", "name": "OA事项", "workflow": "to_oa",
                                                  "prefix": "OA"}).status == 201
        agent = anon.login(AGENT, DEMO_PW)
        r = agent.post("/api/v1/tickets", {"type": "oa_request", "title": "申请调阅开户资料"})
        assert r.status == 201, r.body
        t = r.json()["id"]
        get = lambda: agent.get(f"/api/v1/tickets/{t}").json()  # noqa: E731
        # The OA is down: the hand-off is tried, fails, and waits for its next attempt.
        down = wait_until(lambda: (h := get()["handoffs"]) and h[0]["attempts"] >= 2 and h[0], timeout=20,
                          what="two failed attempts to hand the task to the OA", show=get)
        assert down["delivered_at"] is None and down["last_error"] and down["next_at"]
        assert live_task(agent, t, "oa")["system"] == "oa"

        sim = subprocess.Popen([os.path.join(BUILD, "src", "kefu-oa-sim"), "--listen", f"127.0.0.1:{oa_port}",
                                "--secret", secret, "--kefu", k.base, "--token", admin.token, "--delay-ms", "100"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: any(x["node"] == "visit" and x["status"] == "open" for x in get()["tasks"]), timeout=30,
                   what="the OA to take the hand-off and complete its task", show=lambda: get()["handoffs"])
        got = get()
        assert got["handoffs"][0]["delivered_at"] and got["handoffs"][0]["attempts"] >= 3
        actions = [h["action"] for h in got["history"]]
        assert actions.count("external.sent") == 1 and actions.count("external.delivered") == 1
        assert actions.count("external.completed") == 1
        oa = Client(f"http://127.0.0.1:{oa_port}").get("/handoffs").json()["items"]
        assert [x["ticket"]["id"] for x in oa] == [t] and oa[0]["node_name"] == "OA审批"
        # A forged hand-off is refused by the OA.
        forged = Client(f"http://127.0.0.1:{oa_port}").post("/kefu/handoff", {"complete": "/x"},
                                                             headers={"X-Kefu-Timestamp": "1", "X-Kefu-Signature": "sha256=00"})
        assert forged.status == 401
    finally:
        if sim:
            sim.kill()
            sim.wait(timeout=10)
        k.stop()
