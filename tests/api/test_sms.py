"""The SMS channel over SMPP 3.4 against a real SMSC from outside the project (node-smpp's server,
tests/api/smsc.mjs): a long Chinese message is split by UDH as UCS-2, reassembled whole by the
SMSC and delivered by its receipts; receipts that come before the submit_sm_resp or after a
reconnect are all matched; throttling and a full queue are retried within the window; a dropped
link and a refused bind lose nothing; a refused destination fails for good; customers' replies
land in the reply pool with their keyword; random misbehaviour of the SMSC leaves nothing stuck."""
import pytest

from conftest import DEMO_PW, Client, Kefud, new_database, query, wait_until
from smsc import Smsc

HQ = "zhangwei"
LONG = "尊敬的客户：您关注的股票今日发布分红公告，每10股派发现金红利2.5元（含税），股权登记日为12月10日，除息日为12月11日。详情请登录网上营业厅查询，或致电95588。"


@pytest.fixture(scope="module")
def smsc():
    s = Smsc().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kefud(smsc):
    k = Kefud(new_database(), **smsc.kefud_env()).start()
    yield k
    k.stop()


@pytest.fixture(scope="module")
def hq(kefud):
    return Client(kefud.base).login(HQ, DEMO_PW)


@pytest.fixture(autouse=True)
def clean_smsc(smsc, hq):
    """Each test starts with a well-behaved SMSC and a bound link."""
    smsc.reset()
    wait_until(lambda: smsc.state()["sessions"] >= 1 and account(hq)["state"] == "bound", timeout=30,
               what="kefud's SMPP link to be bound", show=lambda: (smsc.state()["counters"], account(hq)))
    yield
    smsc.reset()


def account(client):
    return next(a for a in client.get("/api/v1/messages/accounts").json()["items"] if a["channel"] == "sms")


def sms(client, recipient, text, type_="service"):
    r = client.post("/api/v1/messages", {"channel": "sms", "type": type_, "recipient": recipient, "text": text})
    assert r.status == 201, r.body
    return r.json()


def message(client, mid):
    return client.get(f"/api/v1/messages/{mid}").json()


def all_in(client, ids, status, what, timeout=60):
    wait_until(lambda: all(message(client, i)["status"] == status for i in ids), timeout=timeout, what=what,
               show=lambda: [(i, message(client, i)["status"], message(client, i)["error_code"]) for i in ids])


def test_a_long_chinese_sms_is_split_reassembled_and_delivered(smsc, hq):
    m = sms(hq, "13800138001", LONG)
    assert m["segments"] == 2 and m["cost_fen"] == 10
    all_in(hq, [m["id"]], "delivered", "the two-part SMS to be delivered")
    got = [x for x in smsc.state()["messages"] if x["to"] == "13800138001"]
    assert len(got) == 1 and got[0]["text"] == LONG and got[0]["from"] == "95588", got
    one = message(hq, m["id"])
    assert [p["status"] for p in one["parts"]] == ["delivered", "delivered"]
    assert sorted(p["provider_id"] for p in one["parts"]) == sorted(got[0]["parts"])
    assert [e["status"] for e in one["events"]] == ["queued", "sent", "delivered"]
    assert one["cost_fen"] == 10 and one["delivered_at"] >= one["sent_at"]


def test_receipts_before_the_response_and_after_a_reconnect_are_all_matched(smsc, hq):
    smsc.mode(receipt_first=True)
    first = [sms(hq, f"1380013810{i}", f"验证码{i}：4821，5分钟内有效")["id"] for i in range(5)]
    all_in(hq, first, "delivered", "messages whose receipts came before their submit_sm_resp")
    # Receipts held back until after the link is cut: they come on the next bind.
    smsc.mode(receipt_first=False, receipt_delay_ms=60_000)
    later = [sms(hq, f"1390013820{i}", f"您的受理单{i}已办结")["id"] for i in range(4)]
    all_in(hq, later, "sent", "messages accepted by the SMSC")
    binds = smsc.state()["counters"]["binds"]
    smsc.kick()
    wait_until(lambda: smsc.state()["counters"]["binds"] > binds, timeout=30, what="kefud to bind again after the cut")
    all_in(hq, later, "delivered", "receipts re-sent on the new bind to settle their messages")
    assert smsc.state()["unacked"] == 0


def test_throttling_and_a_full_queue_are_retried_within_the_window(smsc, hq):
    smsc.mode(throttle_every=4, queue_full_every=11, resp_delay_ms=40)
    ids = [sms(hq, f"137{i:08d}", f"早盘提示{i}")["id"] for i in range(30)]
    all_in(hq, ids, "delivered", "every message past throttling", timeout=120)
    st = smsc.state()
    assert st["counters"]["throttled"] > 0 and st["counters"]["queue_full"] > 0, st["counters"]
    assert st["counters"]["max_unanswered"] <= 10, st["counters"]
    assert len({m["to"] for m in st["messages"]}) == 30
    codes = {e["code"] for i in ids for e in message(hq, i)["events"] if e["status"] == "retry"}
    assert "smpp_throttled" in codes, codes


def test_a_dropped_link_loses_nothing(smsc, hq):
    smsc.mode(drop_after=3)
    ids = [sms(hq, f"136{i:08d}", f"公告{i}")["id"] for i in range(10)]
    all_in(hq, ids, "delivered", "every message after the SMSC dropped the link", timeout=90)
    st = smsc.state()
    assert st["counters"]["drops"] == 1 and st["counters"]["binds"] >= 1
    assert {m["to"] for m in st["messages"]} == {f"136{i:08d}" for i in range(10)}


def test_a_refused_destination_fails_for_good_and_an_undelivered_one_says_why(smsc, hq):
    smsc.mode(invalid_prefix="1350000", undeliverable_prefix="1340000")
    bad = sms(hq, "13500001111", "测试")["id"]
    lost = sms(hq, "13400002222", "测试")["id"]
    all_in(hq, [bad, lost], "failed", "both messages to fail")
    b = message(hq, bad)
    assert b["error_code"] == "smpp_invalid_destination" and b["attempts"] == 1, b
    lo = message(hq, lost)
    assert lo["error_code"] == "smsc_undeliv" and lo["sent_at"], lo


def test_replies_land_in_the_pool_and_their_keywords_act(smsc, hq):
    who = "13800138009"
    smsc.mo("+86" + who, "td")  # 退订: no more marketing, at once, and a confirmation
    wait_until(lambda: smsc.state()["counters"]["mo_acked"] == 1, timeout=30, what="the TD reply acknowledged")
    refused = hq.post("/api/v1/messages", {"channel": "sms", "type": "marketing", "recipient": who, "text": "新股申购提醒"})
    assert refused.status == 422 and refused.error["code"] == "opted_out" and refused.error["field"] == "recipient", refused.body
    sms(hq, who, "您的受理单已办结")  # service messages still go
    smsc.mo(who, "退订 谢谢")  # not a keyword here: the help text
    wait_until(lambda: smsc.state()["counters"]["mo_acked"] == 2, timeout=30, what="the second reply acknowledged")
    items = hq.get(f"/api/v1/messages/replies?sender={who}").json()["items"]
    assert [(i["keyword"], i["action"], i["body"]) for i in items] == [("退订", "help", "退订 谢谢"), ("TD", "stop", "td")], items
    assert all(i["answer_id"] for i in items)
    answers = [i["answer_id"] for i in items]
    all_in(hq, answers, "delivered", "the answers to both replies")
    texts = [m["text"] for m in smsc.state()["messages"] if m["to"] == who]
    assert any(t.startswith("您已退订营销短信") for t in texts) and any(t.startswith("回复TD退订") for t in texts), texts
    assert hq.get("/api/v1/messages/replies?keyword=td").json()["total"] >= 1
    smsc.mo(who, "KT")  # and back
    wait_until(lambda: smsc.state()["counters"]["mo_acked"] == 3, timeout=30, what="the KT reply acknowledged")
    assert hq.post("/api/v1/messages", {"channel": "sms", "type": "marketing", "recipient": who, "text": "新股申购提醒"}).status == 201


def test_a_refused_bind_is_shown_and_nothing_is_lost(smsc):
    db = new_database()
    k = Kefud(db, **smsc.kefud_env(password="wrong")).start()
    try:
        c = Client(k.base).login(HQ, DEMO_PW)
        wait_until(lambda: "invalid password" in account(c)["state"], timeout=30, what="the refused bind to be shown",
                   show=lambda: account(c))
        mid = sms(c, "13800138077", "绑定失败时排队")["id"]
        wait_until(lambda: message(c, mid)["error_code"] == "smpp_link_down", timeout=30,
                   what="the message to wait for the link", show=lambda: message(c, mid))
        assert message(c, mid)["status"] == "queued"
    finally:
        k.stop()
    k.env.update(smsc.kefud_env())  # the same database, the right password
    k.start()
    try:
        c = Client(k.base).login(HQ, DEMO_PW)
        all_in(c, [mid], "delivered", "the held message to go once the login is right")
    finally:
        k.stop()


def test_random_misbehaviour_leaves_nothing_stuck(smsc, hq):
    """Rounds of random SMSC behaviour — throttling, a full queue, late answers, receipts first or
    late, cuts — while messages are queued: every message ends delivered, none is left `sending`,
    and the SMSC received each at least once."""
    import random
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    ids, to = [], []
    for rnd_i in range(4):
        smsc.mode(throttle_every=rnd.choice([0, 3, 7]), queue_full_every=rnd.choice([0, 5]),
                  resp_delay_ms=rnd.choice([0, 20, 200]), receipt_first=rnd.random() < 0.5,
                  receipt_delay_ms=rnd.choice([0, 500, 3000]), drop_after=rnd.choice([0, 0, 2, 5]))
        for k in range(8):
            number = f"133{rnd_i:02d}{k:06d}"
            ids.append(sms(hq, number, f"随机{seed}-{rnd_i}-{k}")["id"])
            to.append(number)
        if rnd.random() < 0.5:
            smsc.kick()
    smsc.mode(throttle_every=0, queue_full_every=0, resp_delay_ms=0, drop_after=0)
    all_in(hq, ids, "delivered", f"every message delivered (seed {seed})", timeout=180)
    got = {m["to"] for m in smsc.state()["messages"]}
    assert set(to) <= got, (seed, set(to) - got)
