"""Customer management (CIF) end to end on the shared kefud (SQLite or PostgreSQL): the file with
its checks and masking, screen pop, data scope, imports, grading, red/black lists on real routing,
the contact history a call leaves, and the change feed."""
import json

import pytest
from conftest import DEMO_PW, Client, on_call, query, wait_until

HQ = "zhangwei"        # hq_manager: every customer, unmask, import, grade
SH_MANAGER = "zhoujun1"  # branch_manager: 上海分公司 subtree
AGENT = "liuyang"      # agent: crm:serve only


@pytest.fixture(scope="module")
def hq(anon):
    return anon.login(HQ, DEMO_PW)


@pytest.fixture(scope="module")
def sh(anon):
    return anon.login(SH_MANAGER, DEMO_PW)


@pytest.fixture(scope="module")
def agent(anon):
    return anon.login(AGENT, DEMO_PW)


def phone_of(hq, cid):
    """A customer's first phone number, unmasked (headquarters may)."""
    return hq.get(f"/api/v1/crm/customers/{cid}?unmask=true").json()["phones"][0]["number"]


def fields(r):
    return {d["field"]: d["code"] for d in r.error.get("details", [])} or {r.error["field"]: r.error["code"]}


def test_a_customer_file_is_checked_masked_and_unmasked_only_with_a_trace(hq, agent, server):
    bad = hq.post("/api/v1/crm/customers", {"name": "", "id_type": "id_card", "id_no": "110105194912310021",
                                           "phones": ["68880000", "13812345678"], "risk_level": "C7",
                                           "fund_account": "abc"})
    assert bad.status == 422
    f = fields(bad)
    assert f["name"] == "required" and f["phones[0]"] == "phone_area_code" and f["risk_level"] == "invalid_option"
    assert f["fund_account"] == "invalid_account"
    r = hq.post("/api/v1/crm/customers", {
        "name": "测试客户甲", "id_type": "id_card", "id_no": "11010519491231002x", "kind": "individual",
        "phones": ["+86 139-0000-1001", "(021)6888 0001"], "fund_account": "990001", "email": "jia@example.com",
        "address": "上海市黄浦区中山东一路1号", "risk_level": "C4", "risk_expires": "2027-12-31",
        "assets_fen": 123456789, "tags": ["股票", "两融"]})
    assert r.status == 201, r.body
    c = r.json()
    assert c["masked"] and c["id_no"] == "110***********002X" and c["fund_account"] == "**0001"
    assert [p["number"] for p in c["phones"]] == ["139****1001", "0216*****01"]
    assert c["tags"] == ["股票", "两融"] and c["tier"] == 0
    # The same fund account twice: 409 naming the field; nothing written.
    dup = hq.post("/api/v1/crm/customers", {"name": "重复", "fund_account": "990001"})
    assert dup.status == 409 and dup.error["field"] == "fund_account"
    # Unmasking needs crm:unmask and leaves a line in the operation log.
    assert agent.get(f"/api/v1/crm/customers/{c['id']}?unmask=true").status == 403
    full = hq.get(f"/api/v1/crm/customers/{c['id']}?unmask=true").json()
    assert full["id_no"] == "11010519491231002X" and full["phones"][0]["number"] == "13900001001"
    rows = query(server["db"], f"SELECT action, diff FROM audit_log WHERE entity = 'crm_customer' AND entity_id = {c['id']}"
                               " ORDER BY id")
    assert [a for a, _ in rows] == ["create", "unmask"]
    assert "id_no" in json.loads(rows[1][1])["fields"]
    # An update sends the version it read; a stale one is refused.
    up = hq.put(f"/api/v1/crm/customers/{c['id']}", {"version": c["version"], "status": "dormant", "tags": "股票"})
    assert up.status == 200 and up.json()["status"] == "dormant" and up.json()["tags"] == ["股票"]
    stale = hq.put(f"/api/v1/crm/customers/{c['id']}", {"version": c["version"], "status": "normal"})
    assert stale.status == 409 and stale.error["code"] == "stale_version"
    # The agent serves callers but does not list or change the file.
    assert agent.get("/api/v1/crm/customers").status == 403
    assert agent.put(f"/api/v1/crm/customers/{c['id']}", {"version": 2, "status": "normal"}).status == 403


def test_screen_pop_finds_callers_however_the_number_comes_and_an_agent_adds_a_potential_customer(hq, agent, server):
    # No call from him: the agent finds nobody (he is not the agent's to see).
    assert agent.get("/api/v1/crm/screen-pop?phone=13610000007").json()["customers"] == []
    with on_call(server["base"], agent, "13610000007"):
        r = agent.get("/api/v1/crm/screen-pop?phone=%2B86%20136%201000%200007")
        assert r.status == 200, r.body
        pop = r.json()
        assert pop["number"] == "13610000007" and len(pop["customers"]) == 1
        c = pop["customers"][0]
        assert c["name"] and c["phones"][0]["number"] == "136****0007" and c["org_name"] == "北京营业部"
        assert "risk_expired" in c and "last_contacts" in c and "tier_label" in c
        assert agent.get("/api/v1/crm/screen-pop?fund_account=8800000007").json()["customers"][0]["id"] == c["id"]
    # The opening outside his data scope is in the operation log, with the call it rested on.
    rows = query(server["db"], f"SELECT action, diff FROM audit_log WHERE entity = 'crm_customer' AND entity_id = {c['id']} "
                               "AND action = 'serve.open'")
    assert rows and json.loads(rows[0][1])["basis"].startswith("call:") and json.loads(rows[0][1])["what"] == "screen_pop"
    with on_call(server["base"], agent, "13955550001"):
        _unknown_caller_becomes_a_potential_customer(hq, agent)


def _unknown_caller_becomes_a_potential_customer(hq, agent):
    # Unknown caller → nobody; the agent creates him as a potential customer in one step.
    assert agent.get("/api/v1/crm/screen-pop?phone=13955550001").json()["customers"] == []
    assert agent.post("/api/v1/crm/customers", {"name": "来电客户", "phones": ["13955550001"]}).status == 403
    p = agent.post("/api/v1/crm/customers", {"name": "来电客户", "status": "potential", "phones": ["13955550001"]})
    assert p.status == 201, p.body
    # Two customers on one number: both come back, the agent picks.
    kin = hq.post("/api/v1/crm/customers", {"name": "同号家属", "phones": ["021-6888 0002", "139-5555-0001"]}).json()
    for i in range(7):  # each customer's own last five, newest first
        assert agent.post(f"/api/v1/crm/customers/{kin['id']}/contacts", {"summary": f"备注{i}"}).status == 201
    both = agent.get("/api/v1/crm/screen-pop?phone=13955550001").json()["customers"]
    assert sorted(x["name"] for x in both) == ["同号家属", "来电客户"]
    by_name = {x["name"]: x for x in both}
    assert [p["number"] for p in by_name["同号家属"]["phones"]] == ["0216*****02", "139****0001"]
    assert [k["summary"] for k in by_name["同号家属"]["last_contacts"]] == [f"备注{i}" for i in (6, 5, 4, 3, 2)]
    assert by_name["来电客户"]["last_contacts"] == []
    assert agent.get("/api/v1/crm/screen-pop?phone=13955550001").json()["list"] is None
    assert agent.get("/api/v1/crm/screen-pop").error["code"] == "lookup_key_required"


def test_a_branch_sees_only_its_own_customers(hq, sh, agent, server):
    everyone = hq.get("/api/v1/crm/customers?page_size=1").json()["total"]
    mine = sh.get("/api/v1/crm/customers?page_size=200").json()
    assert 0 < mine["total"] < everyone
    sh_path = hq.get("/api/v1/org_unit?code=SH").json()["items"][0]["path"]
    orgs = hq.get("/api/v1/org_unit?page_size=200").json()["items"]
    assert {c["org_id"] for c in mine["items"]} <= {o["id"] for o in orgs if o["path"].startswith(sh_path)}
    # A Beijing customer is not in his lists, nor his to open by id (he holds crm:serve, but no
    # call of his is with that customer): 404, like a missing one. The hotline agent the customer
    # calls opens the file, masked, whatever branch he belongs to.
    assert hq.get("/api/v1/crm/customers?q=8800000007").json()["total"] == 1  # 北京营业部
    assert sh.get("/api/v1/crm/customers?q=8800000007").json()["total"] == 0
    bj = hq.get("/api/v1/crm/customers?q=8800000007").json()["items"][0]
    assert sh.get(f"/api/v1/crm/customers/{bj['id']}").status == 404
    with on_call(server["base"], agent, phone_of(hq, bj["id"])):
        assert agent.get(f"/api/v1/crm/customers/{bj['id']}").status == 200
    change = sh.put(f"/api/v1/crm/customers/{bj['id']}", {"version": bj["version"], "status": "dormant"})
    assert change.status == 404                                                 # changing it: his scope only
    moved = sh.post("/api/v1/crm/customers", {"name": "外地客户", "org_id": bj["org_id"]})
    assert moved.status == 403 and moved.error["code"] == "out_of_scope"
    by_org = sh.get("/api/v1/crm/stats?by=org").json()["rows"]
    assert sum(r["customers"] for r in by_org) == mine["total"]
    q = sh.post("/api/v1/crm/customers/query", {"filters": [{"field": "assets_fen", "op": "gte", "value": 100000000},
                                                           {"field": "tag", "op": "contains", "value": "股票"},
                                                           {"field": "risk_level", "op": "in", "value": ["C1", "C2", "C3"]}],
                                               "sort": "-assets_fen"})
    assert q.status == 200, q.body
    items = q.json()["items"]
    assert items and all(c["assets_fen"] >= 100000000 and c["risk_level"] in ("C1", "C2", "C3") for c in items)
    assert [c["assets_fen"] for c in items] == sorted((c["assets_fen"] for c in items), reverse=True)
    bad = sh.post("/api/v1/crm/customers/query", {"filters": [{"field": "id_no", "op": "like", "value": "1"}]})
    assert bad.status == 400 and bad.error["field"] == "filters[0].op"


def test_import_upserts_reports_every_bad_row_and_replays(hq, sh, server):
    rows = [
        {"external_key": "T-1", "name": "导入一", "phones": "13966660001", "org_code": "SH-YYB", "assets_fen": 500},
        {"external_key": "T-2", "name": "导入二", "fund_account": "880099", "org_code": "BJ-YYB"},
        {"external_key": "T-3", "name": "导入三", "risk_level": "C9"},
        {"external_key": "T-1", "name": "重复键"},
        {"name": "无键"},
        {"external_key": "T-4", "name": "坏机构", "org_code": "NOPE"},
        {"external_key": "T-5", "name": "撞资金账号", "fund_account": "8800000001"},
    ]
    r = hq.post("/api/v1/crm/imports", {"batch_key": "test-batch-1", "rows": rows})
    assert r.status == 200, r.body
    res = r.json()
    assert (res["inserted"], res["updated"], res["failed"]) == (2, 0, 5)
    errs = {(e["row"], e["field"]): e["code"] for e in res["errors"]}
    assert errs == {(3, "risk_level"): "invalid_option", (4, "external_key"): "duplicate_in_batch",
                    (5, "external_key"): "required", (6, "org_code"): "unknown_reference",
                    (7, "fund_account"): "duplicate"}
    # Sent again: the same answer, nothing written twice; other content under the same key: 409.
    again = hq.post("/api/v1/crm/imports", {"batch_key": "test-batch-1", "rows": rows}).json()
    assert again["replayed"] and again["inserted"] == 2
    assert hq.post("/api/v1/crm/imports", {"batch_key": "test-batch-1", "rows": rows[:1]}).status == 409
    assert query(server["db"], "SELECT COUNT(*) FROM crm_customer WHERE external_key LIKE 'T-%'") == [("2",)]
    # A T-day update: only the status of T-1, the rest stays.
    up = hq.post("/api/v1/crm/imports", {"batch_key": "test-batch-2", "rows": [{"external_key": "T-1", "status": "loss_reported"}]})
    assert up.json()["updated"] == 1
    t1 = hq.get("/api/v1/crm/customers?q=T-1").json()["items"][0]
    assert t1["status"] == "loss_reported" and t1["name"] == "导入一" and t1["assets_fen"] == 500
    # CSV with the console's Chinese headers; all-or-nothing refuses the file with every bad row.
    csv = "外部编号,客户名称,电话,营业部代码,风险测评等级\nT-10,表格一,13966660010,SH-YYB,C2\nT-11,表格二,bad,SH-YYB,C3\n"
    rej = hq.call("POST", "/api/v1/crm/imports?batch_key=csv-1&mode=all", raw=csv.encode(),
                  headers={"Content-Type": "text/csv"})
    assert rej.status == 422 and rej.error["code"] == "import_rejected"
    assert fields(rej) == {"rows[2].phones[0]": "phone_chars"}
    assert query(server["db"], "SELECT COUNT(*) FROM crm_customer WHERE external_key = 'T-10'") == [("0",)]
    ok = hq.call("POST", "/api/v1/crm/imports?batch_key=csv-2", raw=csv.encode(), headers={"Content-Type": "text/csv"})
    assert ok.status == 200 and ok.json()["inserted"] == 1 and ok.json()["failed"] == 1
    # A branch imports into its own branch only.
    out = sh.post("/api/v1/crm/imports", {"batch_key": "sh-1", "rows": [
        {"external_key": "T-20", "name": "分公司导入", "org_code": "BJ-YYB"},
        {"external_key": "T-2", "name": "改别人的"}]}).json()
    assert {(e["row"], e["code"]) for e in out["errors"]} == {(1, "out_of_scope"), (2, "out_of_scope")}
    # The change feed carries what changed, in order, for an external CRM.
    feed = hq.get("/api/v1/crm/changes?after=0&limit=5000").json()
    actions = [c["action"] for c in feed["items"]]
    assert "import_create" in actions and "import_update" in actions and feed["next"] >= len(actions)
    assert hq.get(f"/api/v1/crm/changes?after={feed['next']}").json()["items"] == []


def test_grading_trial_changes_nothing_then_a_run_gives_tiers_with_history(hq, sh, server):
    model = {"indicators": [{"code": "assets_fen", "weight": 80, "full_mark": 100000000},
                            {"code": "products", "weight": 20, "full_mark": 5}],
             "thresholds": [10, 30, 60, 90]}
    bad = hq.post("/api/v1/crm/grading/trial", {"model": {"indicators": [{"code": "assets_fen", "weight": 50,
                                                                          "full_mark": 1}], "thresholds": [1, 2]}})
    assert bad.status == 422 and fields(bad) == {"indicators": "weights_sum", "thresholds": "thresholds_count"}
    before = query(server["db"], "SELECT id, tier FROM crm_customer ORDER BY id")
    t = hq.post("/api/v1/crm/grading/trial", {"model": model})
    assert t.status == 200, t.body
    trial = t.json()
    assert trial["customers"] == sum(trial["per_tier"]) > 60 and len(trial["histogram"]) == 20
    assert query(server["db"], "SELECT id, tier FROM crm_customer ORDER BY id") == before
    # A branch's trial covers its own customers only.
    assert sh.post("/api/v1/crm/grading/trial", {"model": model}).json()["customers"] < trial["customers"]
    run = hq.post("/api/v1/crm/grading/runs", {"model": model, "note": "年度分级"})
    assert run.status == 201, run.body
    assert run.json()["per_tier"] == trial["per_tier"]
    after = dict(query(server["db"], "SELECT tier, COUNT(*) FROM crm_customer WHERE status <> 'closed' GROUP BY tier"))
    assert [int(after.get(str(i), 0)) for i in range(5)] == trial["per_tier"]
    moved = trial["up"] + trial["down"]
    hist = query(server["db"], f"SELECT COUNT(*) FROM crm_tier_history WHERE run_id = {run.json()['run_id']}")
    assert int(hist[0][0]) == moved
    runs = hq.get("/api/v1/crm/grading/runs").json()["items"]
    assert runs[0]["id"] == run.json()["run_id"] and runs[0]["note"] == "年度分级"
    rich = hq.post("/api/v1/crm/customers/query", {"filters": [{"field": "tier", "op": "eq", "value": 4}]}).json()
    assert rich["total"] == trial["per_tier"][4] > 0
    p = hq.get(f"/api/v1/crm/customers/{rich['items'][0]['id']}").json()
    assert p["tier_history"][0]["to_tier"] == 4


def test_lists_steer_real_routing_and_calls_land_in_the_contact_history(hq, server):
    before = int(query(server["db"], "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])
    vip = hq.get("/api/v1/crm/screen-pop?phone=13610000001").json()
    assert vip["list"]["list"] == "red"
    legs = []
    for number in ("13610000001", "13610009999", "13610000050"):
        r = hq.post("/api/v1/cti/sim/calls", {"from": number, "to": "95555"})
        assert r.status == 201, r.body
        legs.append(r.json()["leg"])
    wait_until(lambda: len(query(server["db"], f"SELECT id FROM cti_call WHERE id > {before}")) == 3)
    for leg in legs:  # nobody is signed in on this server: the callers hang up in the queue
        hq.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
    calls = wait_until(lambda: (lambda r: r if len(r) == 3 and all(x[3] for x in r) else None)(
        query(server["db"], f"SELECT ani, tier, customer_id, disposition FROM cti_call WHERE id > {before} ORDER BY id")),
        timeout=10)
    by = {c[0]: c for c in calls}
    assert by["13610000001"][1] == "4"                       # red list: the highest service level
    assert by["13610009999"][3] == "blocked" and by["13610009999"][2] == ""  # black list: refused
    c50 = by["13610000050"]
    assert c50[2] != "" and c50[3] != "blocked"
    cid = int(c50[2])
    tl = wait_until(lambda: hq.get(f"/api/v1/crm/customers/{cid}/contacts?channel=voice").json()["items"])
    assert tl[0]["kind"] == "call" and tl[0]["source"] == "cti" and "95555" in tl[0]["summary"]
    assert hq.get(f"/api/v1/crm/customers/{cid}").json()["contacts"][0]["ref_type"] == "call"


def test_trades_load_once_and_feed_the_transaction_analysis(hq, sh, agent, server):
    import datetime
    month = datetime.date.today().strftime("%Y-%m")
    rows = [
        {"external_key": "TR-1", "customer_key": "C000003", "trade_date": f"{month}-01", "product_code": "600000",
         "product_name": "浦发银行", "side": "buy", "quantity": 1000, "amount_fen": 1000000, "commission_fen": 250},
        {"external_key": "TR-2", "fund_account": "8800000003", "trade_date": f"{month}-01", "product_code": "510300",
         "product_name": "沪深300ETF", "product_type": "fund", "side": "sell", "quantity": 500, "amount_fen": 2000000,
         "commission_fen": 500},
        {"external_key": "TR-3", "customer_key": "NOBODY", "trade_date": f"{month}-01", "product_code": "600000",
         "side": "buy", "quantity": 1, "amount_fen": 1, "commission_fen": 0},
        {"external_key": "TR-4", "customer_key": "C000003", "trade_date": "2026-02-30", "product_code": "600000",
         "side": "hold", "quantity": -1, "amount_fen": 1, "commission_fen": 0},
    ]
    r = hq.post("/api/v1/crm/trades/imports", {"batch_key": "trades-1", "rows": rows})
    assert r.status == 200, r.body
    res = r.json()
    assert (res["inserted"], res["failed"]) == (2, 2)
    errs = {(e["row"], e["field"]): e["code"] for e in res["errors"]}
    assert errs[(3, "customer_key")] == "unknown_customer"
    assert errs[(4, "trade_date")] == "invalid_date" and errs[(4, "side")] == "invalid_option"
    assert errs[(4, "quantity")] == "out_of_range"
    # The counter re-sends an overlapping day in a new batch: the trade is not counted twice.
    again = hq.post("/api/v1/crm/trades/imports", {"batch_key": "trades-2", "rows": rows[:1]}).json()
    assert again["inserted"] == 0 and again["already_loaded"] == 1
    cid = hq.get("/api/v1/crm/customers?q=C000003").json()["items"][0]["id"]
    with on_call(server["base"], agent, phone_of(hq, cid)):
        a = agent.get(f"/api/v1/crm/customers/{cid}/trades").json()   # the agent serving him sees it too
        assert a["totals"]["trades"] == 2 and a["totals"]["amount_fen"] == 3000000 and a["totals"]["commission_fen"] == 750
        assert a["by_month"][-1]["month"] == month and a["products"][0]["product_code"] == "510300"
        assert {t["product_type"] for t in a["by_type"]} == {"stock", "fund"}
        assert agent.get(f"/api/v1/crm/customers/{cid}/trades?months=99").status == 400
    # Scope-wide analysis: headquarters sees the trades, a branch that does not own C000003 does not.
    assert hq.get("/api/v1/crm/trades/analysis").json()["totals"]["trades"] >= 2
    owner_org = hq.get(f"/api/v1/crm/customers/{cid}").json()["org_id"]
    sh_sees = sh.get("/api/v1/crm/trades/analysis").json()["totals"]["trades"]
    sh_orgs = {c["org_id"] for c in sh.get("/api/v1/crm/customers?page_size=200").json()["items"]}
    assert (sh_sees >= 2) == (owner_org in sh_orgs)


def test_an_agent_records_a_business_operation_in_the_history(agent, hq, server):
    cid = hq.get("/api/v1/crm/customers?q=C000004").json()["items"][0]["id"]
    with on_call(server["base"], agent, phone_of(hq, cid)):
        bad = agent.post(f"/api/v1/crm/customers/{cid}/contacts", {"channel": "sms", "summary": "x"})
        assert bad.status == 422 and bad.error["field"] == "channel"
        r = agent.post(f"/api/v1/crm/customers/{cid}/contacts",
                       {"channel": "business", "kind": "密码重置", "summary": "客户来电申请重置交易密码，已指引至营业部办理"})
        assert r.status == 201, r.body
    tl = hq.get(f"/api/v1/crm/customers/{cid}/contacts?channel=business").json()["items"]
    assert tl[0]["kind"] == "密码重置" and tl[0]["source"] == "agent"
    rows = query(server["db"], f"SELECT action FROM audit_log WHERE entity = 'crm_customer' AND entity_id = {cid}")
    assert ("contact.business",) in rows


def test_product_accounts_belong_to_one_customer_and_are_masked(hq, server):
    r = hq.post("/api/v1/crm/customers", {"name": "基金客户", "accounts": [
        {"kind": "fund", "number": "F0012345", "institution": "华夏基金"}, {"kind": "ta", "number": "TA998877"}]})
    assert r.status == 201, r.body
    c = r.json()
    assert [(a["kind"], a["number"], a["status"]) for a in c["accounts"]] == [
        ("fund", "****2345", "normal"), ("ta", "****8877", "normal")]
    full = hq.get(f"/api/v1/crm/customers/{c['id']}?unmask=true").json()
    assert full["accounts"][0]["number"] == "F0012345" and full["accounts"][0]["institution"] == "华夏基金"
    bad = hq.post("/api/v1/crm/customers", {"name": "坏账户", "accounts": "fund:x;stock:12345678"})
    assert bad.status == 422 and fields(bad) == {"accounts[0].number": "invalid_account", "accounts[1].kind": "invalid_option"}
    taken = hq.post("/api/v1/crm/customers", {"name": "抢账户", "accounts": [{"kind": "fund", "number": "F0012345"}]})
    assert taken.status == 409 and taken.error["field"] == "accounts"
    assert query(server["db"], "SELECT COUNT(*) FROM crm_customer WHERE name = '抢账户'") == [("0",)]
    # Imports carry them as a cell; a clash names the row, the others go in.
    csv = "external_key,name,accounts\nA-1,导入账户,fund:F7770001@南方基金;bond:B7770001\nA-2,撞账户,ta:TA998877\n"
    res = hq.call("POST", "/api/v1/crm/imports?batch_key=acc-1", raw=csv.encode(), headers={"Content-Type": "text/csv"}).json()
    assert res["inserted"] == 1 and [(e["row"], e["field"], e["code"]) for e in res["errors"]] == [(2, "accounts", "duplicate")]
    a1 = hq.get("/api/v1/crm/customers?q=A-1").json()["items"][0]
    got = hq.get(f"/api/v1/crm/customers/{a1['id']}?unmask=true").json()["accounts"]
    assert [(a["kind"], a["number"], a["institution"]) for a in got] == [("fund", "F7770001", "南方基金"), ("bond", "B7770001", "")]


def test_fund_movements_show_money_in_and_out(hq, agent, server):
    import datetime
    day = datetime.date.today().strftime("%Y-%m-01")
    rows = [{"external_key": "FF-1", "customer_key": "C000005", "flow_date": day, "kind": "deposit",
             "amount_fen": 100000, "bank": "工商银行"},
            {"external_key": "FF-2", "fund_account": "8800000005", "flow_date": day, "kind": "withdrawal",
             "amount_fen": 30000},
            {"external_key": "FF-3", "customer_key": "C000005", "flow_date": day, "kind": "gift", "amount_fen": 1}]
    res = hq.post("/api/v1/crm/fund-flows/imports", {"batch_key": "flows-1", "rows": rows}).json()
    assert (res["inserted"], res["failed"]) == (2, 1) and res["errors"][0]["field"] == "kind"
    csv = f"external_key,customer_key,flow_date,kind,amount_fen\nFF-1,C000005,{day},deposit,100000\n"
    again = hq.call("POST", "/api/v1/crm/fund-flows/imports?batch_key=flows-2", raw=csv.encode(),
                    headers={"Content-Type": "text/csv"}).json()
    assert again["inserted"] == 0 and again["already_loaded"] == 1
    cid = hq.get("/api/v1/crm/customers?q=C000005").json()["items"][0]["id"]
    with on_call(server["base"], agent, phone_of(hq, cid)):
        a = agent.get(f"/api/v1/crm/customers/{cid}/trades").json()
    assert a["funds_by_month"][-1] == {"month": day[:7], "in_fen": 100000, "out_fen": 30000, "net_fen": 70000}
    assert (a["totals"]["funds_in_fen"], a["totals"]["funds_out_fen"]) == (100000, 30000)


def test_an_email_from_a_known_address_carries_the_customer_and_lands_in_his_history(hq, server):
    c5 = hq.get("/api/v1/crm/customers?q=C000005").json()["items"][0]
    r = hq.post("/api/v1/cti/conversations", {"channel": "email", "queue": "mail", "customer": "customer5@example.com",
                                              "subject": "对账单", "body": "请寄送上月对账单"})
    assert r.status == 201, r.body
    conv = r.json()
    assert conv["tier"] == c5["tier"]
    assert query(server["db"], f"SELECT customer_id FROM cti_call WHERE id = {conv['id']}") == [(str(c5["id"]),)]
    assert hq.post(f"/api/v1/cti/conversations/{conv['id']}/leave").status == 200
    tl = wait_until(lambda: hq.get(f"/api/v1/crm/customers/{c5['id']}/contacts?channel=email").json()["items"])
    assert tl[0]["ref_id"] == conv["id"] and tl[0]["source"] == "cti"
    # A black-listed customer's mail is refused like his calls.
    c6 = hq.get("/api/v1/crm/customers?q=C000006").json()["items"][0]
    assert hq.post("/api/v1/crm_call_list", {"list": "black", "customer_id": c6["id"], "action": "block",
                                            "enabled": True}).status == 201
    refused = hq.post("/api/v1/cti/conversations", {"channel": "email", "queue": "mail",
                                                    "customer": "customer6@example.com", "subject": "x"})
    assert refused.status == 403 and refused.error["code"] == "blocked"


def test_a_call_through_the_ivr_shows_its_menu_path_in_the_history(hq, server):
    before = int(query(server["db"], "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])
    leg = hq.post("/api/v1/cti/sim/calls", {"from": "13610000050", "to": "95588"}).json()["leg"]
    wait_until(lambda: query(server["db"], f"SELECT COUNT(*) FROM cti_ivr_path WHERE call_id > {before}")[0][0] != "0")
    hq.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
    cid = int(query(server["db"], f"SELECT customer_id FROM cti_call WHERE id > {before}")[0][0])
    tl = wait_until(lambda: [k for k in hq.get(f"/api/v1/crm/customers/{cid}/contacts").json()["items"]
                             if k["ref_id"] and k["ref_id"] > before])
    assert "IVR " in tl[0]["summary"] and "vip" in tl[0]["summary"], tl[0]
