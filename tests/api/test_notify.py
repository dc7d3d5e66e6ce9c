"""The outbox (消息外发) through the API, with e-mail sent to a real SMTP server (aiosmtpd over
STARTTLS with a login): a templated e-mail in Chinese arrives whole and lands in the customer's
contact history; bad input is refused with its field; a refused recipient fails for good, a
temporary refusal is retried, an SMTP server that is down loses nothing; kill -9 while sending
re-sends at most the batch in flight."""
import random
import time

import pytest

from conftest import ADMIN_PW, DEMO_PW, Client, Kefud, new_database, query, wait_until
from smtp_server import SmtpServer

HQ, AGENT = "zhangwei", "liuyang"


@pytest.fixture(scope="module")
def mail():
    s = SmtpServer().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kefud(mail):
    k = Kefud(new_database(), **mail.kefud_env()).start()
    yield k
    k.stop()


@pytest.fixture(scope="module")
def hq(kefud):
    return Client(kefud.base).login(HQ, DEMO_PW)


@pytest.fixture(scope="module")
def agent(kefud):
    return Client(kefud.base).login(AGENT, DEMO_PW)


def status_of(client, mid):
    return client.get(f"/api/v1/messages/{mid}").json()["status"]


def test_a_templated_email_arrives_whole_over_starttls_and_is_in_the_customers_history(kefud, mail, hq):
    customer = int(query(kefud.db, "SELECT id FROM crm_customer ORDER BY id LIMIT 1")[0][0])
    r = hq.post("/api/v1/messages", {"channel": "email", "type": "service", "template": "ticket_done_email",
                                     "recipient": "wang.li@example.com", "customer_id": customer,
                                     "variables": {"name": "王<丽>", "ticket_no": "YW20261205000007", "title": "修改手机号"}})
    assert r.status == 201, r.body
    mid = r.json()["id"]
    assert r.json()["status"] == "queued" and r.json()["cost_fen"] == 1
    wait_until(lambda: status_of(hq, mid) == "sent", timeout=30, what="the e-mail to be accepted by the SMTP server",
               show=lambda: hq.get(f"/api/v1/messages/{mid}").json())
    got = mail.recorder.to("wang.li@example.com")
    assert len(got) == 1
    m = got[0]
    assert str(m["Subject"]) == "您的受理单YW20261205000007已办结"
    assert m["From"].addresses[0].display_name == "客服中心"
    assert m["Message-ID"].startswith(f"<kefu-notify-{mid}@")
    assert m.get_content_type() == "multipart/mixed"
    body = m.get_body(preferencelist=("plain",)).get_content()
    html = m.get_body(preferencelist=("html",)).get_content()
    assert "尊敬的王<丽>：" in body and "修改手机号" in body
    assert "王&lt;丽&gt;" in html and "<b>YW20261205000007</b>" in html
    one = hq.get(f"/api/v1/messages/{mid}").json()
    assert [e["status"] for e in one["events"]] == ["queued", "sent"]
    assert one["attempts"] == 1 and one["sent_at"]
    admin = Client(kefud.base).login("admin", ADMIN_PW)
    contacts = admin.get(f"/api/v1/crm/customers/{customer}/contacts").json()
    items = contacts["items"] if isinstance(contacts, dict) else contacts
    assert any(k["channel"] == "email" and k["ref_id"] == mid for k in items), items[:3]


def test_bad_input_is_refused_with_its_field_and_queues_nothing(kefud, hq, agent):
    before = query(kefud.db, "SELECT COUNT(*) FROM notify_message")[0][0]
    cases = [
        ({"channel": "email", "type": "nosuch", "recipient": "a@example.com", "subject": "s", "text": "t"}, 422, "type", "not_found"),
        ({"channel": "email", "type": "service", "recipient": "not-an-address", "subject": "s", "text": "t"}, 422, "recipient", "invalid_email"),
        ({"channel": "email", "type": "service", "recipient": "a@example.com", "template": "ticket_done_email",
          "variables": {"name": "x", "ticket_no": "1"}}, 422, "variables.title", "missing_variable"),
        ({"channel": "email", "type": "service", "recipient": "a@example.com", "template": "verify_sms",
          "variables": {"code": "1"}}, 422, "template", "wrong_channel"),
        ({"channel": "sms", "type": "verify", "recipient": "13812345678", "text": "验证码 1"}, 422, "channel", "no_account"),
        ({"channel": "fax", "type": "service", "recipient": "a@example.com", "text": "t"}, 422, "channel", "invalid_option"),
        ({"channel": "email", "type": "service", "recipient": "a@example.com", "text": "t"}, 422, "subject", "required"),
        ({"channel": "email", "type": "service", "recipient": "a@example.com", "subject": "s", "text": "t",
          "customer_id": 99999999}, 422, "customer_id", "not_found"),
        ({"channel": "email", "type": "service", "recipient": "a@example.com", "subject": "s", "text": 5}, 422, "text", "wrong_type"),
    ]
    for body, status, field, code in cases:
        r = hq.post("/api/v1/messages", body)
        assert r.status == status, (body, r.body)
        assert r.error["field"] == field and r.error["code"] == code, (body, r.body)
    assert query(kefud.db, "SELECT COUNT(*) FROM notify_message")[0][0] == before
    # A template naming a variable its sender does not provide is refused on save, every error at once.
    r = hq.post("/api/v1/notify_template", {"code": "bad_tpl", "name": "坏模板", "channel": "email", "type": "service",
                                            "variables": "name", "subject": "{{ticket}}", "body": "{{nmae}} {{#x}}"})
    assert r.status == 422, r.body
    fields = {(d["field"], d["code"]) for d in r.json()["error"]["details"]}
    assert fields == {("subject", "unknown_variable"), ("body", "invalid_template")}, fields
    # Only senders send.
    assert Client(kefud.base).login("sunhui", DEMO_PW).post(
        "/api/v1/messages", {"channel": "email", "type": "service", "recipient": "a@example.com", "subject": "s", "text": "t"}).status == 403


def test_a_capped_type_refuses_the_next_message_and_a_retry_with_its_key_queues_one(kefud, hq, agent):
    r = hq.post("/api/v1/notify_type", {"code": "mail_code", "name": "邮件验证码", "priority": 1, "per_minute": 1,
                                        "per_day": 3, "over_cap": "reject", "expire_minutes": 10})
    assert r.status == 201, r.body
    body = {"channel": "email", "type": "mail_code", "recipient": "cap@example.com", "subject": "验证码", "text": "您的验证码 123456"}
    first = agent.post("/api/v1/messages", body, headers={"Idempotency-Key": "code-1"})
    assert first.status == 201, first.body
    again = agent.post("/api/v1/messages", body, headers={"Idempotency-Key": "code-1"})
    assert again.status == 201 and again.json()["id"] == first.json()["id"]
    capped = agent.post("/api/v1/messages", body, headers={"Idempotency-Key": "code-2"})
    assert capped.status == 429 and capped.error["code"] == "frequency_capped" and capped.error["field"] == "recipient", capped.body
    assert query(kefud.db, "SELECT COUNT(*) FROM notify_message WHERE recipient = 'cap@example.com'")[0][0] == "1"
    # An agent sees what he sent, not everyone's; a supervisor with notify:read sees all.
    mine = agent.get("/api/v1/messages").json()["items"]
    assert mine and all(m["created_by"] == mine[0]["created_by"] for m in mine)
    everyone = hq.get("/api/v1/messages?size=500").json()["items"]
    assert {m["created_by"] for m in everyone} > {mine[0]["created_by"]}


def test_a_message_held_for_later_can_be_cancelled_once(kefud, hq):
    later = int(time.time() * 1000) + 3_600_000
    r = hq.post("/api/v1/messages", {"channel": "email", "type": "service", "recipient": "held@example.com",
                                     "subject": "稍后", "text": "一小时后", "not_before": later})
    assert r.status == 201 and r.json()["next_at"] >= later, r.body
    mid = r.json()["id"]
    assert hq.post(f"/api/v1/messages/{mid}/cancel").json()["status"] == "cancelled"
    again = hq.post(f"/api/v1/messages/{mid}/cancel")
    assert again.status == 409 and again.error["code"] == "not_cancellable"
    assert hq.post("/api/v1/messages/99999999/cancel").status == 404


def test_a_refused_recipient_fails_for_good_and_a_temporary_refusal_is_retried(kefud, mail, hq):
    send = lambda to: hq.post("/api/v1/messages", {"channel": "email", "type": "service", "recipient": to,
                                                    "subject": "通知", "text": "内容"}).json()["id"]
    bounce, later = send("bounce@example.com"), send("later@example.com")
    wait_until(lambda: status_of(hq, bounce) == "failed", timeout=30, what="the refused e-mail to fail")
    b = hq.get(f"/api/v1/messages/{bounce}").json()
    assert b["error_code"] == "smtp_550" and b["attempts"] == 1, b
    wait_until(lambda: status_of(hq, later) == "sent", timeout=30, what="the e-mail refused once (451) to be sent on its retry",
               show=lambda: hq.get(f"/api/v1/messages/{later}").json())
    l = hq.get(f"/api/v1/messages/{later}").json()
    assert l["attempts"] == 2 and [e["status"] for e in l["events"]] == ["queued", "retry", "sent"], l
    assert l["events"][1]["code"] == "smtp_451"
    assert len(mail.recorder.to("later@example.com")) == 1


def test_nothing_is_lost_while_the_smtp_server_is_down():
    mail = SmtpServer()  # not started yet: the port refuses connections
    k = Kefud(new_database(), **mail.kefud_env()).start()
    try:
        hq = Client(k.base).login(HQ, DEMO_PW)
        ids = [hq.post("/api/v1/messages", {"channel": "email", "type": "service", "recipient": f"down{i}@example.com",
                                            "subject": "停机", "text": f"第{i}封"}).json()["id"] for i in range(5)]
        wait_until(lambda: all(hq.get(f"/api/v1/messages/{i}").json()["error_code"] == "connect_failed" for i in ids),
                   timeout=30, what="every message to have met the closed port")
        assert all(status_of(hq, i) == "queued" for i in ids)
        mail.start()
        wait_until(lambda: all(status_of(hq, i) == "sent" for i in ids), timeout=60,
                   what="the queued messages to go once the SMTP server is up")
        assert sorted(m["To"].addresses[0].addr_spec for m in mail.recorder.messages) == \
            sorted(f"down{i}@example.com" for i in range(5))
    finally:
        k.stop()
        mail.stop()


def test_kill_9_while_sending_re_sends_at_most_the_batch_in_flight():
    mail = SmtpServer(delay=0.02).start()
    k = Kefud(new_database(), **mail.kefud_env()).start()
    try:
        hq = Client(k.base).login(HQ, DEMO_PW)
        n = 150
        for i in range(n):
            assert hq.post("/api/v1/messages", {"channel": "email", "type": "service", "recipient": f"k{i}@example.com",
                                                "subject": "批量", "text": f"第{i}封"}).status == 201
        some = 20 + random.randint(0, 40)  # anywhere within the sending
        wait_until(lambda: mail.recorder.count() >= some, timeout=60,
                   what="some of the messages to have been sent")
        k.kill()
        k.start()
        wait_until(lambda: query(k.db, "SELECT COUNT(*) FROM notify_message WHERE status = 'sent'")[0][0] == str(n),
                   timeout=120, what="every message to be sent after the restart",
                   show=lambda: query(k.db, "SELECT status, COUNT(*) FROM notify_message GROUP BY status"))
        got = [m["Message-ID"] for m in mail.recorder.messages]
        assert len(set(got)) == n  # none lost
        print(f"kill -9: {len(got) - n} of {n} re-sent")
        assert len(got) - n <= 20  # repeats: at most the batch that was in flight, with the same Message-ID
    finally:
        k.stop()
        mail.stop()


def test_a_closed_ticket_tells_its_customer_by_email_and_says_why_not_by_sms(kefud, mail, hq):
    admin = Client(kefud.base).login("admin", ADMIN_PW)
    flow = {"name": "一步办结", "start": "s", "nodes": {
        "s": {"type": "start"}, "do": {"type": "task", "name": "办理", "assignee": {"rule": "creator"}}, "e": {"type": "end"}},
        "transitions": [{"from": "s", "to": "do"}, {"from": "do", "to": "e"}]}
    assert admin.post("/api/v1/workflows", {"code": "one_step", "definition": flow}).status == 201
    r = admin.post("/api/v1/ticket_type", {"code": "quick_service", "name": "快速办理", "workflow": "one_step", "prefix": "KS",
                                           "done_sms_template": "ticket_done_sms", "done_email_template": "ticket_done_email"})
    assert r.status == 201, r.body
    customer, address = query(kefud.db, "SELECT id, email FROM crm_customer WHERE email IS NOT NULL ORDER BY id LIMIT 1")[0]
    t = hq.post("/api/v1/tickets", {"type": "quick_service", "title": "重置交易密码", "customer_id": int(customer)}).json()
    got = hq.get(f"/api/v1/tickets/{t['id']}").json()
    task = [x for x in got["tasks"] if x["status"] in ("open", "started")][0]
    r = hq.post(f"/api/v1/tickets/{t['id']}/actions/complete", {"version": got["version"], "task": task["task"]})
    assert r.status == 200 and r.json()["status"] == "closed", r.body
    history = hq.get(f"/api/v1/tickets/{t['id']}").json()["history"]
    notice = [h for h in history if h["action"] == "customer.notified"]
    assert len(notice) == 1, history
    messages = {m["channel"]: m for m in notice[0]["detail"]["messages"]}
    assert messages["sms"]["skipped"] == "no_account"  # this kefud has no SMS account
    mid = messages["email"]["message_id"]
    wait_until(lambda: status_of(hq, mid) == "sent", timeout=30, what="the ticket's closing e-mail to be sent")
    m = [x for x in mail.recorder.to(address) if t["no"] in str(x["Subject"])]
    assert len(m) == 1 and "重置交易密码" in m[0].get_body(preferencelist=("plain",)).get_content()
    assert hq.get(f"/api/v1/messages/{mid}").json()["cause"] == f"ticket:{t['id']}"
