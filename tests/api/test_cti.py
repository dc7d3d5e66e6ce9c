"""The real-time core through its REST and WebSocket interface, on a kefud of its own (short ring and
wrap-up timers) driving the simulator switch: agents, a supervisor, stored call records, and a
SIGKILL under load after which nothing acknowledged is missing."""
import os
import random
import threading
import time

import pytest

from conftest import ADMIN_PW, DEMO_PW, Client, Kefud, WsReader, query, wait_until

CUSTOMER = "13912345678"


@pytest.fixture(scope="module")
def cti():
    k = Kefud(db=os.environ.get("KEFU_TEST_DB_CTI"), KEFU_CTI_RING_TIMEOUT_S="4", KEFU_CTI_WRAP_UP_S="2").start()
    yield k
    k.stop()


def login(k, user):
    return Client(k.base).login(user, DEMO_PW)


def me(c):
    r = c.get("/api/v1/cti/me")
    assert r.status == 200, r.body
    return r.json()


def cmd(c, action, body=None, status=200):
    r = c.post(f"/api/v1/cti/agent/{action}", body or {})
    assert r.status == status, (action, r.status, r.body)
    return r.json()


def sup(c, action, body=None, status=200):
    r = c.post(f"/api/v1/cti/supervisor/{action}", body or {})
    assert r.status == status, (action, r.status, r.body)
    return r.json()


def state(c):
    return me(c)["agent"]["state"]


def test_a_call_from_queue_to_wrap_up_with_transfer_conference_monitoring_and_takeover(cti):
    lina, liu, chen = login(cti, "lina"), login(cti, "liuyang"), login(cti, "chenjing")
    liu_ws, lina_ws = WsReader(cti.base, liu.token), WsReader(cti.base, lina.token)
    try:
        assert cmd(liu, "sign-in")["agent"]["state"] == "not_ready"
        assert cmd(liu, "ready")["agent"]["state"] == "ready"
        time.sleep(0.05)
        cmd(chen, "sign-in")
        cmd(chen, "ready")
        r = lina.post("/api/v1/cti/sim/calls", {"from": CUSTOMER, "to": "95500"})
        assert r.status == 201, r.body
        customer_leg = r.json()["leg"]
        desk = wait_until(lambda: (d := me(liu))["agent"]["state"] == "reserved" and d)
        call = desk["call"]
        assert call["ani"] == CUSTOMER and call["queue"] == "general" and call["phase"] == "ringing"
        cmd(liu, "answer")
        desk = wait_until(lambda: (d := me(liu))["agent"]["state"] == "busy" and d)
        assert desk["call"]["phase"] == "talking" and desk["call"]["owner"] == "liuyang"
        assert cmd(liu, "hold")["call"]["phase"] == "held"
        assert cmd(liu, "hold", status=409)["error"]["code"] == "already_held"
        assert cmd(liu, "retrieve")["call"]["phase"] == "talking"
        # The supervisor listens, whispers, barges in.
        sup(lina, "monitor", {"agent": "liuyang", "mode": "listen"})
        wait_until(lambda: any("supervisor:up:listen" in l["what"] for l in me(liu)["call"]["legs"]))
        sup(lina, "monitor", {"agent": "liuyang", "mode": "whisper"})
        sup(lina, "monitor", {"agent": "liuyang", "mode": "barge"})
        assert any("supervisor:up:talk" in l["what"] for l in me(liu)["call"]["legs"])
        sup(lina, "stop")
        # Consultation with a colleague, then a three-way call; the first agent leaves.
        cmd(liu, "transfer", {"kind": "agent", "target": "chenjing", "consult": True})
        wait_until(lambda: state(chen) == "reserved")
        cmd(chen, "answer")
        wait_until(lambda: state(chen) == "busy")
        assert me(liu)["call"]["phase"] == "consult"
        cmd(liu, "conference")
        cmd(liu, "hang-up")
        assert state(liu) == "wrap_up"
        assert me(chen)["call"]["owner"] == "chenjing"
        cmd(liu, "wrap-up", {"call_type": "consult", "summary": "客户咨询基金定投", "done": True})
        assert state(liu) == "ready"
        # 强制接管: the supervisor takes the customer over from the second agent.
        sup(lina, "take-over", {"agent": "chenjing"})
        wait_until(lambda: state(chen) == "wrap_up")
        live = lina.get("/api/v1/cti/live").json()
        mine = [c for c in live["calls"] if c["ani"] == CUSTOMER]
        assert len(mine) == 1 and any("supervisor:up:talk" in l["what"] for l in mine[0]["legs"])
        sup(lina, "stop")  # the supervisor hangs up: the call is over
        wait_until(lambda: not [c for c in lina.get("/api/v1/cti/live").json()["calls"] if c["ani"] == CUSTOMER])
        assert lina.post(f"/api/v1/cti/sim/legs/{customer_leg}/hang-up").status == 404  # already gone
        wait_until(lambda: state(chen) == "ready", timeout=5)  # the wrap-up timer (2 s)

        # The stored record: every segment, the queue log, the wrap-up.
        cdr = lina.get(f"/api/v1/cti/calls/{call['id']}").json()
        assert cdr["disposition"] == "completed" and cdr["recording"] == f"calls/{call['id']}.wav"
        kinds = [s["kind"] for s in cdr["segments"]]
        for k in ("queue", "ring", "talk", "consult", "monitor"):
            assert k in kinds, kinds
        assert [q["event"] for q in cdr["queue_log"]] == ["enter", "connect"]
        assert cdr["wrap_ups"][0]["summary"] == "客户咨询基金定投"
        types = [e["type"] for e in cdr["events"]]
        for t in ("offered", "queued", "alerting", "established", "held", "retrieved", "monitored", "conferenced",
                  "transferred", "cleared"):
            assert t in types, (t, types)
        # The agent sees his own call's record, and the number's history.
        assert liu.get(f"/api/v1/cti/calls/{call['id']}").status == 200
        hist = liu.get(f"/api/v1/cti/history?number={CUSTOMER}").json()["items"]
        assert hist[0]["id"] == call["id"] and hist[0]["summary"] == "客户咨询基金定投"
        # Live KPIs count the answered call.
        general = [q for q in lina.get("/api/v1/cti/live").json()["queues"] if q["code"] == "general"][0]
        assert general["windows"][0]["minutes"] == 15 and general["windows"][0]["answered"] >= 1
        assert general["windows"][0]["service_level"] == 1.0

        # Events: the agent hears of himself only; the supervisor of everybody.
        liu_events = liu_ws.events(0.5)
        assert {e["data"]["username"] for e in liu_events if e["type"] == "cti.agent"} == {"liuyang"}
        lina_events = lina_ws.events(0.5)
        assert {"liuyang", "chenjing"} <= {e["data"]["username"] for e in lina_events if e["type"] == "cti.agent"}
        assert any(e["type"] == "cti.call" and e["data"]["type"] == "conferenced" for e in lina_events)
        assert any(e["type"] == "cti.stats" for e in lina_events)
    finally:
        liu_ws.close()
        lina_ws.close()
        for c in (liu, chen):
            c.post("/api/v1/cti/agent/sign-out", {})


def test_refusals_have_stable_codes_and_change_nothing(cti):
    yang = login(cti, "yangli")
    r = yang.post("/api/v1/cti/agent/answer", {})
    assert r.status == 409 and r.error["code"] == "not_ringing"
    cmd(yang, "sign-in")
    assert yang.post("/api/v1/cti/agent/sign-in", {}).error["code"] == "already_signed_in"
    r = yang.post("/api/v1/cti/agent/dial", {"number": "12"})
    assert r.status == 409 and r.error["code"] == "bad_number"
    r = yang.post("/api/v1/cti/agent/transfer", {"kind": "fax", "target": "x"})
    assert r.status == 422 and r.error["field"] == "kind"
    r = yang.post("/api/v1/cti/agent/not-ready", {"reason": "rest", "colour": "red"})
    assert r.status == 422 and r.error["field"] == "colour"
    r = yang.post("/api/v1/cti/agent/not-ready", {})
    assert r.status == 422 and r.error["field"] == "reason"
    assert yang.post("/api/v1/cti/agent/fly", {}).status == 404
    assert state(yang) == "not_ready"
    # Agents do not supervise; a manager without an agent profile has no softphone.
    assert yang.get("/api/v1/cti/live").status == 403
    assert yang.post("/api/v1/cti/supervisor/force-sign-out", {"agent": "liuyang"}).status == 403
    lina = login(cti, "lina")
    r = lina.post("/api/v1/cti/supervisor/monitor", {"agent": "yangli", "mode": "listen"})
    assert r.status == 409 and r.error["code"] == "not_talking"
    r = lina.post("/api/v1/cti/supervisor/monitor", {"agent": "nobody"})
    assert r.status == 404 and r.error["field"] == "agent"
    # A supervisor can force an agent out.
    assert sup(lina, "force-sign-out", {"agent": "yangli"})["agent"]["state"] == "signed_out"
    rows = query(cti.db, "SELECT reason FROM cti_agent_state WHERE staff_id = (SELECT id FROM staff WHERE "
                         "username = 'yangli') ORDER BY id DESC LIMIT 1")
    assert rows == [("forced_sign_out",)]


def test_caller_hanging_up_in_the_queue_is_an_abandon(cti):
    lina = login(cti, "lina")
    huang = login(cti, "huangmin")
    cmd(huang, "sign-in")  # signed in but not ready: the caller waits
    leg = lina.post("/api/v1/cti/sim/calls", {"from": "13700001111", "to": "95500"}).json()["leg"]
    wait_until(lambda: [q for q in lina.get("/api/v1/cti/live").json()["queues"] if q["code"] == "general"][0]["waiting"] == 1)
    assert lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up").status == 200
    rows = wait_until(lambda: query(cti.db, "SELECT c.disposition, q.event FROM cti_call c JOIN cti_queue_log q ON "
                                            "q.call_id = c.id WHERE c.ani = '13700001111' ORDER BY q.id"))
    assert rows == [("abandoned", "enter"), ("abandoned", "abandon")]
    cmd(huang, "sign-out")


def test_a_waiting_caller_asks_for_a_callback_then_calls_again_and_reaches_the_same_agent(cti):
    lina, huang, zhao = login(cti, "lina"), login(cti, "huangmin"), login(cti, "zhaolei")
    number = "13700002222"
    cmd(huang, "sign-in")  # signed in but not ready: the caller waits
    leg = lina.post("/api/v1/cti/sim/calls", {"from": number, "to": "95500"}).json()["leg"]
    wait_until(lambda: [q for q in lina.get("/api/v1/cti/live").json()["queues"] if q["code"] == "general"][0]["waiting"] == 1)
    bad = lina.post(f"/api/v1/cti/sim/legs/{leg}/digits", {"digits": "1x"})
    assert bad.status == 422 and bad.error["field"] == "digits", bad.body
    assert lina.post(f"/api/v1/cti/sim/legs/{leg}/digits", {"digits": "1"}).status == 200  # 预约回呼
    rows = wait_until(lambda: len(r := query(cti.db, f"SELECT direction, disposition FROM cti_call WHERE ani = '{number}' "
                                                     f"OR dnis = '{number}' ORDER BY id")) == 2 and r)
    assert rows == [("inbound", "callback"), ("callback", "")], rows
    cmd(huang, "ready")  # the callback is offered; answering it dials the customer
    desk = wait_until(lambda: (d := me(huang))["agent"]["state"] == "reserved" and d)
    assert desk["call"]["direction"] == "callback" and desk["call"]["dnis"] == number
    cmd(huang, "answer")
    wait_until(lambda: me(huang)["call"]["phase"] == "talking", timeout=6)  # the customer picks up after 2 s
    cmd(huang, "hang-up")
    # 粘滞: zhaolei is ready before huangmin finishes his wrap-up, yet the next call from this
    # customer goes to huangmin, who served him last.
    cmd(zhao, "sign-in")
    cmd(zhao, "ready")
    time.sleep(0.05)
    cmd(huang, "wrap-up", {"call_type": "callback", "summary": "已回呼", "done": True})
    assert state(huang) == "ready"
    rows = query(cti.db, f"SELECT direction, disposition FROM cti_call WHERE dnis = '{number}' ORDER BY id")
    assert rows == [("callback", "completed")], rows
    events = query(cti.db, "SELECT q.event FROM cti_queue_log q JOIN cti_call c ON c.id = q.call_id "
                           f"WHERE c.ani = '{number}' OR c.dnis = '{number}' ORDER BY q.id")
    assert events == [("enter",), ("callback",), ("enter",), ("connect",)], events
    lina.post("/api/v1/cti/sim/calls", {"from": number, "to": "95500"})
    wait_until(lambda: state(huang) == "reserved")
    assert state(zhao) == "ready"
    cmd(huang, "hang-up")  # declines: the call goes on to zhaolei
    wait_until(lambda: state(zhao) == "reserved")
    cmd(zhao, "answer")
    wait_until(lambda: state(zhao) == "busy")
    cmd(zhao, "hang-up")
    cmd(zhao, "wrap-up", {"call_type": "x", "summary": "", "done": True})
    for c in (huang, zhao):
        cmd(c, "sign-out")


def test_queue_and_agent_edits_apply_live_without_a_restart(cti):
    admin = Client(cti.base).login("admin", ADMIN_PW)
    lina, yang = login(cti, "lina"), login(cti, "zhaolei")  # zhaolei has the fund skill
    fund = [q for q in admin.get("/api/v1/cti_queue?page_size=100").json()["items"] if q["code"] == "fund"][0]
    # A new access number: calls to it reach the fund queue within the reload period (2 s).
    r = admin.put(f"/api/v1/cti_queue/{fund['id']}", {"version": fund["version"], "access_numbers": "95502,95509"})
    assert r.status == 200, r.body
    cmd(yang, "sign-in")

    def routed():
        leg = lina.post("/api/v1/cti/sim/calls", {"from": "13700003333", "to": "95509"}).json()["leg"]
        time.sleep(0.2)
        live = lina.get("/api/v1/cti/live").json()
        mine = [c for c in live["calls"] if c["ani"] == "13700003333"]
        if not mine:
            return False
        lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
        return mine[0]["queue"] == "fund"

    assert wait_until(routed, timeout=8)
    # The queue's name changes on the wallboard; nobody was signed out by the edit.
    fund = admin.get(f"/api/v1/cti_queue/{fund['id']}").json()
    assert admin.put(f"/api/v1/cti_queue/{fund['id']}", {"version": fund["version"], "name": "基金业务专线"}).status == 200
    wait_until(lambda: any(q["name"] == "基金业务专线" for q in lina.get("/api/v1/cti/live").json()["queues"]), timeout=8)
    assert state(yang) == "not_ready"
    cmd(yang, "sign-out")
    # An agent learns the fund skill while signed in and ready: the next fund call rings him.
    yl = login(cti, "yangli")
    cmd(yl, "sign-in")
    cmd(yl, "ready")
    staff_id = me(yl)["agent"]["staff_id"]
    prof = [a for a in admin.get("/api/v1/cti_agent?page_size=100").json()["items"] if a["staff_id"] == staff_id][0]
    assert admin.put(f"/api/v1/cti_agent/{prof['id']}", {"version": prof["version"], "skills": "fund"}).status == 200

    def rings():
        leg = lina.post("/api/v1/cti/sim/calls", {"from": "13700004444", "to": "95502"}).json()["leg"]
        time.sleep(0.2)
        ok = state(yl) == "reserved"
        lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
        return ok

    assert wait_until(rings, timeout=8)
    wait_until(lambda: state(yl) == "ready")
    cmd(yl, "sign-out")


def test_a_caller_verifies_in_the_ivr_then_talks_to_an_agent_and_the_path_is_stored(cti):
    admin = Client(cti.base).login("admin", ADMIN_PW)
    lina, chen = login(cti, "lina"), login(cti, "chenjing")
    # A broken flow is refused with the node and field that is wrong.
    r = admin.post("/api/v1/ivr_flow", {"code": "broken", "name": "坏流程", "definition":
                                        {"start": "a", "nodes": {"a": {"type": "menu", "options": [
                                            {"digit": "1", "next": "nowhere"}]}}}})
    assert r.status == 422 and r.error["field"] == "definition.nodes.a.options[0].next", r.body
    assert r.error["code"] == "unknown_node"
    cmd(chen, "sign-in")
    cmd(chen, "ready")
    number = "13700005555"
    known = admin.post("/api/v1/crm/customers", {"name": "评价客户", "phones": [number]})  # tier 0, like a stranger
    assert known.status == 201, known.body
    r = lina.post("/api/v1/cti/sim/calls", {"from": number, "to": "95588"})
    assert r.status == 201, r.body
    leg = r.json()["leg"]
    wait_until(lambda: [c for c in lina.get("/api/v1/cti/live").json()["calls"] if c["ani"] == number
                        and c["phase"] == "ivr"])

    def press(d):
        assert lina.post(f"/api/v1/cti/sim/legs/{leg}/digits", {"digits": d}).status == 200
        time.sleep(0.3)

    press("1")
    press("880001#")
    press("123456")  # the simulated trading counter answers: verified, then the balance
    time.sleep(0.5)
    press("0")  # back in the menu: an agent
    desk = wait_until(lambda: (d := me(chen))["agent"]["state"] == "reserved" and d)
    assert desk["call"]["verified"] is True and desk["call"]["ivr"] == "main"
    cmd(chen, "answer")
    wait_until(lambda: state(chen) == "busy")
    cmd(chen, "hang-up")  # the customer is asked to rate the call
    wait_until(lambda: [c for c in lina.get("/api/v1/cti/live").json()["calls"] if c["ani"] == number
                        and c["phase"] == "ivr"])
    press("1")
    cmd(chen, "wrap-up", {"call_type": "ivr", "summary": "", "done": True})
    cmd(chen, "sign-out")
    call_id = wait_until(lambda: query(cti.db, f"SELECT id FROM cti_call WHERE ani = '{number}' "
                                               "AND disposition = 'completed'"))[0][0]
    cdr = lina.get(f"/api/v1/cti/calls/{call_id}").json()
    path = [(p["node"], p["input"], p["result"]) for p in cdr["ivr_path"]]
    assert path[:4] == [("vip", "", "menu"), ("menu", "1", "verify"), ("verify", "", "verified"),
                        ("balance", "", "ok")], path
    assert ("menu", "0", "agent") in path and ("rate", "1", "rated") in path, path
    assert "123456" not in str(cdr)  # the password is never stored
    # His history has the call and, as its own line, the rating he keyed (客户评价).
    history = admin.get(f"/api/v1/crm/customers/{known.json()['id']}/contacts").json()["items"]
    survey = [k for k in history if k["channel"] == "survey"]
    assert len(survey) == 1 and survey[0]["summary"].startswith("客户评价 1") and survey[0]["ref_id"] == int(call_id)
    assert any(k["channel"] == "voice" and k["kind"] == "call" for k in history)
    assert "verified" in [e["type"] for e in cdr["events"]]
    # 菜单记录 statistics over the last day: this caller's choices are counted.
    stats = lina.get("/api/v1/cti/ivr-stats?flow=main").json()["items"]
    by = {(i["node"], i["result"]): int(i["visits"]) for i in stats}
    assert by[("menu", "verify")] >= 1 and by[("verify", "verified")] >= 1 and by[("rate", "rated")] >= 1, by
    assert all(i["flow"] == "main" for i in stats)
    r = lina.get("/api/v1/cti/ivr-stats?from=abc")
    assert r.status == 400 and r.error["field"] == "from", r.body
    assert lina.get("/api/v1/cti/ivr-stats?from=10&to=5").status == 400
    assert chen.get("/api/v1/cti/ivr-stats").status == 403  # agents do not see statistics


def test_a_campaign_feedback_code_keyed_in_the_menu_reaches_the_campaigns_reception_queue(cti):
    admin, lina, chen = Client(cti.base).login("admin", ADMIN_PW), login(cti, "lina"), login(cti, "chenjing")
    # 活动反馈码: digits only, with a reception number; a bad one is refused by field.
    r = admin.post("/api/v1/cti_campaign_code", {"code": "12", "name": "太短", "reception_number": "95500"})
    assert r.status == 422 and r.error["field"] == "code", r.body
    r = admin.post("/api/v1/cti_campaign_code", {"code": "7788", "name": "新客理财讲座",
                                                 "reception_number": "95500", "valid_from": "2020-01-01"})
    assert r.status == 201, r.body
    time.sleep(2.5)  # the core takes configuration edits within 2 s
    cmd(chen, "sign-in")
    cmd(chen, "ready")
    number = "13700007788"
    leg = lina.post("/api/v1/cti/sim/calls", {"from": number, "to": "95588"}).json()["leg"]
    wait_until(lambda: [c for c in lina.get("/api/v1/cti/live").json()["calls"] if c["ani"] == number
                        and c["phase"] == "ivr"])
    for d in ("8", "7788#"):  # 活动反馈 in the menu, then the code
        assert lina.post(f"/api/v1/cti/sim/legs/{leg}/digits", {"digits": d}).status == 200
        time.sleep(0.3)
    desk = wait_until(lambda: (d := me(chen))["agent"]["state"] == "reserved" and d)
    assert desk["call"]["ani"] == number
    cmd(chen, "answer")
    assert lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up", {}).status == 200
    cmd(chen, "wrap-up", {"call_type": "consult", "summary": "", "done": True})
    cmd(chen, "sign-out")
    call_id = wait_until(lambda: query(cti.db, f"SELECT id FROM cti_call WHERE ani = '{number}' AND ended_at IS NOT NULL"))[0][0]
    cdr = lina.get(f"/api/v1/cti/calls/{call_id}").json()
    path = [(p["node"], p["input"], p["result"]) for p in cdr["ivr_path"]]
    assert ("menu", "8", "campaign") in path and ("campaign", "7788", "campaign") in path, path
    assert ("campaign", "", "transfer:95500") in path, path
    assert [e["detail"] for e in cdr["events"] if e["type"] == "campaign"] == ["7788:新客理财讲座"], cdr["events"]


def test_outbound_calls_show_the_caller_id_of_the_agents_access_site(cti):
    liu = login(cti, "liuyang")  # in the HQ service centre: the HQ site's 95555
    cmd(liu, "sign-in")
    cmd(liu, "dial", {"number": "13800007777"})
    rows = wait_until(lambda: query(cti.db, "SELECT ani FROM cti_call WHERE direction = 'outbound' AND "
                                            "dnis = '13800007777'"))
    assert rows == [("95555",)], rows
    wait_until(lambda: state(liu) == "busy")
    cmd(liu, "hang-up")
    cmd(liu, "wrap-up", {"call_type": "x", "summary": "", "done": True})
    cmd(liu, "sign-out")


def conv_cmd(c, conv, action, body=None, status=200):
    r = c.post(f"/api/v1/cti/agent/conversations/{conv}/{action}", body or {})
    assert r.status == status, (action, r.status, r.body)
    return r.json()


def test_web_chats_and_emails_reach_agents_beside_their_phone_and_keep_a_record(cti):
    lina, liu, chen = login(cti, "lina"), login(cti, "liuyang"), login(cti, "chenjing")
    liu_ws = WsReader(cti.base, liu.token)
    try:
        cmd(liu, "sign-in")
        cmd(liu, "ready")
        # The gateway's refusals name the field; an agent may not open conversations.
        r = lina.post("/api/v1/cti/conversations", {"channel": "voice", "queue": "webchat", "customer": "v"})
        assert r.status == 422 and r.error["field"] == "channel"
        r = lina.post("/api/v1/cti/conversations", {"channel": "chat", "queue": "mail", "customer": "v"})
        assert r.status == 422 and r.error["field"] == "queue"
        r = lina.post("/api/v1/cti/conversations", {"channel": "chat", "queue": "webchat"})
        assert r.status == 422 and r.error["field"] == "customer"
        assert liu.post("/api/v1/cti/conversations", {"channel": "chat", "queue": "webchat", "customer": "v"}).status == 403

        r = lina.post("/api/v1/cti/conversations",
                      {"channel": "chat", "queue": "webchat", "customer": "visitor-88", "subject": "开户咨询", "body": "你好"})
        assert r.status == 201, r.body
        chat = r.json()["id"]
        offered = wait_until(lambda: [c for c in me(liu)["conversations"] if c["id"] == chat])
        assert offered[0]["state"] == "offered" and offered[0]["channel"] == "chat"
        assert me(liu)["agent"]["state"] == "ready"  # his phone state is untouched
        assert conv_cmd(chen, chat, "accept", status=409)["error"]["code"] == "not_ringing"
        desk = conv_cmd(liu, chat, "accept")
        assert desk["conversations"][0]["state"] == "active" and desk["agent"]["conversations"] == 1
        conv_cmd(liu, chat, "messages", {"body": "您好，请问有什么可以帮您？"})
        r = lina.post(f"/api/v1/cti/conversations/{chat}/messages", {"body": "想开户"})
        assert r.status == 200, r.body
        assert any(e["type"] == "cti.message" and e["data"]["call"] == chat and e["data"]["sender"] == "customer"
                   for e in liu_ws.events(0.5))
        got = liu.get(f"/api/v1/cti/conversations/{chat}").json()
        assert [(m["sender"], m["body"]) for m in got["messages"]] == [
            ("customer", "你好"), ("agent", "您好，请问有什么可以帮您？"), ("customer", "想开户")]
        assert got["live"]["state"] == "active" and got["live"]["agent"] == "liuyang"
        assert chen.get(f"/api/v1/cti/conversations/{chat}").status == 404  # not his
        assert lina.post(f"/api/v1/cti/conversations/{chat}/leave", {}).status == 200
        r = lina.post(f"/api/v1/cti/conversations/{chat}/messages", {"body": "?"})
        assert r.status == 409 and r.error["code"] == "conversation_ended"
        assert conv_cmd(liu, chat, "wrap-up", {"call_type": "consult", "summary": "开户流程", "done": True})["conversations"] == []

        # The record reads like a call's: segments, queue log, wrap-up, disposition.
        cdr = liu.get(f"/api/v1/cti/calls/{chat}").json()
        assert [s["kind"] for s in cdr["segments"]] == ["queue", "offer", "chat"]
        assert [q["event"] for q in cdr["queue_log"]] == ["enter", "connect"]
        assert cdr["disposition"] == "completed" and cdr["wrap_ups"][0]["summary"] == "开户流程"
        assert liu.get(f"/api/v1/cti/conversations/{chat}").json()["live"] is None

        # An e-mail: accepted, answered, closed by the agent.
        r = lina.post("/api/v1/cti/conversations",
                      {"channel": "email", "queue": "mail", "customer": "li@example.com", "subject": "对账单", "body": "请寄送对账单"})
        mail = r.json()["id"]
        wait_until(lambda: [c for c in me(liu)["conversations"] if c["id"] == mail])
        conv_cmd(liu, mail, "accept")
        conv_cmd(liu, mail, "messages", {"body": "已寄出"})
        assert conv_cmd(liu, mail, "wrap-up", {"done": True}, status=409)["error"]["code"] == "not_in_wrap_up"
        conv_cmd(liu, mail, "close")
        conv_cmd(liu, mail, "wrap-up", {"call_type": "consult", "done": True})
        assert query(cti.db, f"SELECT channel, disposition FROM cti_call WHERE id = {mail}") == [("email", "completed")]
        # The queues' KPIs count them like calls.
        q = {x["code"]: x for x in lina.get("/api/v1/cti/live").json()["queues"]}
        assert q["webchat"]["windows"][0]["answered"] >= 1 and q["mail"]["windows"][0]["handled"] >= 1
    finally:
        liu_ws.close()
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_voicemail_is_a_task_in_the_inbox_until_someone_handles_it_once(cti):
    lina, chen = login(cti, "lina"), login(cti, "chenjing")
    assert not [a for a in lina.get("/api/v1/cti/live").json()["agents"] if a["state"] != "signed_out"]
    # Nobody is signed in: the general queue's fallback takes a message.
    leg = lina.post("/api/v1/cti/sim/calls", {"from": "13700006666", "to": "95555"}).json()["leg"]
    wait_until(lambda: query(cti.db, "SELECT 1 FROM cti_segment s JOIN cti_call c ON c.id = s.call_id "
                                     "WHERE c.ani = '13700006666' AND s.kind = 'voicemail'") or
               [c for c in lina.get("/api/v1/cti/live").json()["calls"] if c["ani"] == "13700006666"
                and c["phase"] == "voicemail"])
    time.sleep(1.2)  # he speaks
    lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
    box = wait_until(lambda: [v for v in lina.get("/api/v1/cti/voicemails").json()["items"] if v["ani"] == "13700006666"])
    v = box[0]
    assert v["status"] == "new" and v["queue"] == "general" and v["seconds"] >= 1, v
    assert query(cti.db, f"SELECT disposition FROM cti_call WHERE id = {v['call_id']}") == [("voicemail",)]
    # Any agent may open its recording (the simulator stores none: 404 on the audio, not on the call).
    r = chen.get(f"/api/v1/cti/calls/{v['call_id']}/recording")
    assert r.status == 404 and r.error["field"] == "recording", r.body
    # One agent calls back and says so; the second gets 409, the inbox moves it to done.
    assert chen.post(f"/api/v1/cti/voicemails/{v['call_id']}/handle", {"note": "已回电"}).status == 200
    again = lina.post(f"/api/v1/cti/voicemails/{v['call_id']}/handle", {"note": "我也回了"})
    assert again.status == 409 and again.error["code"] == "already_handled"
    assert lina.post("/api/v1/cti/voicemails/999999999/handle", {}).status == 404
    assert not [x for x in lina.get("/api/v1/cti/voicemails").json()["items"] if x["call_id"] == v["call_id"]]
    done = [x for x in lina.get("/api/v1/cti/voicemails?status=done").json()["items"] if x["call_id"] == v["call_id"]]
    assert done[0]["note"] == "已回电" and done[0]["handled_by"], done
    assert lina.get("/api/v1/cti/voicemails?status=maybe").error["field"] == "status"


def test_sigkill_under_load_loses_nothing_acknowledged(cti):
    k = Kefud(db=os.environ.get("KEFU_TEST_DB_CRASH"), KEFU_CTI_RING_TIMEOUT_S="3", KEFU_CTI_WRAP_UP_S="1").start()
    users = ["liuyang", "chenjing", "yangli", "zhaolei", "huangmin", "lina"]
    clients = {u: login(k, u) for u in users}
    for c in clients.values():
        cmd(c, "sign-in")
        cmd(c, "ready")
    acked = []  # (username, action) the server acknowledged
    stop = threading.Event()

    def agent(u, c):
        rng = random.Random(u)
        while not stop.is_set():
            try:
                r = c.get("/api/v1/cti/me")
                if r.status != 200:
                    continue
                st = r.json()["agent"]["state"]
                before = r.json()["agent"]["call"]  # in wrap-up: the call being wrapped up
                action = {"reserved": "answer", "busy": "hang-up", "wrap_up": "wrap-up"}.get(st)
                if st in ("ready", "not_ready") and rng.random() < 0.1:
                    action = "not-ready" if st == "ready" else "ready"
                if not action:
                    time.sleep(0.02)
                    continue
                if action == "hang-up":
                    time.sleep(rng.random() * 0.3)
                body = {"reason": "rest"} if action == "not-ready" else {"call_type": "consult", "summary": u} if action == "wrap-up" else {}
                r = c.post(f"/api/v1/cti/agent/{action}", body)
                if r.status == 200:
                    now_call = r.json()["call"]["id"] if r.json()["call"] else 0
                    acked.append((u, action, before if action == "wrap-up" else now_call))
            except Exception:
                return  # the server died under us

    def caller():
        n = 0
        lina = clients["lina"]
        while not stop.is_set():
            try:
                lina.post("/api/v1/cti/sim/calls", {"from": f"1350000{n:04d}", "to": random.choice(["95500", "95501", "95502"])})
            except Exception:
                return
            n += 1
            time.sleep(0.03)

    # An e-mail nobody has finished when the process dies goes back to its queue afterwards.
    r = clients["lina"].post("/api/v1/cti/conversations",
                             {"channel": "email", "queue": "mail", "customer": "wu@example.com", "subject": "销户", "body": "请回电"})
    assert r.status == 201, r.body
    mail = r.json()["id"]
    threads = [threading.Thread(target=agent, args=(u, c)) for u, c in clients.items()] + [threading.Thread(target=caller)]
    for t in threads:
        t.start()
    time.sleep(4)
    k.kill()
    stop.set()
    for t in threads:
        t.join(timeout=10)
    answered = [a for a in acked if a[1] == "answer"]
    assert len(answered) >= 5, acked

    # Restart on the same database.
    k.port = __import__("conftest").free_port()
    k.env["KEFU_LISTEN"] = f"127.0.0.1:{k.port}"
    k.base = f"http://127.0.0.1:{k.port}"
    k.start()
    try:
        # Every acknowledged wrap-up is stored; every acknowledged answer is a stored "busy" change.
        wraps = {(r[0], r[1]) for r in query(k.db, "SELECT s.username, w.call_id FROM cti_wrap_up w JOIN staff s ON s.id = w.staff_id")}
        for u, action, call in acked:
            if action == "wrap-up" and call:
                assert (u, str(call)) in wraps, (u, call)
        busy = {(r[0], r[1]) for r in query(k.db, "SELECT s.username, a.call_id FROM cti_agent_state a JOIN staff s ON "
                                                  "s.id = a.staff_id WHERE a.to_state = 'busy'")}
        for u, action, call in answered:
            assert (u, str(call)) in busy, (u, call)
        # Nothing is left open: calls in flight closed as "system_restart", agents signed out with that reason.
        assert query(k.db, "SELECT COUNT(*) FROM cti_call WHERE ended_at IS NULL AND channel <> 'email'") == [("0",)]
        back = login(k, "lina").get(f"/api/v1/cti/conversations/{mail}").json()
        assert back["live"]["state"] == "waiting" and back["live"]["subject"] == "销户", back
        assert [m["body"] for m in back["messages"]] == ["请回电"]
        restarted = query(k.db, "SELECT COUNT(*) FROM cti_call WHERE disposition = 'system_restart'")[0][0]
        last = query(k.db, "SELECT s.username, a.to_state, a.reason FROM cti_agent_state a JOIN staff s ON s.id = a.staff_id "
                           "WHERE a.id = (SELECT MAX(id) FROM cti_agent_state b WHERE b.staff_id = a.staff_id)")
        assert {r[0] for r in last} == set(users)
        for u, to_state, reason in last:
            assert to_state == "signed_out" and reason == "system_restart", (u, to_state, reason)
        # Every call that opened has its record closed; the live core starts empty.
        lina = login(k, "lina")
        assert lina.get("/api/v1/cti/live").json()["calls"] == []
        assert state(login(k, "liuyang")) == "signed_out"
        print(f"acknowledged {len(acked)} commands, {len(answered)} answers; {restarted} calls closed by the restart")
    finally:
        k.stop()
