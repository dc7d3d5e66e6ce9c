"""The IVR's identity check at a trading counter in another process: kefud speaks the adapter
protocol over HTTP to kefu-counter-sim (the reference simulator), the caller keys his fund
account and password, and the counter's answers — yes, no, or no answer at all — steer the menu."""
import os
import subprocess
import tempfile
import time

from conftest import BUILD, Client, Kefud, free_port, query, wait_until

DEMO_PW = "Kefu@2026"


def test_the_menu_verifies_callers_at_a_counter_in_another_process():
    tmp = tempfile.mkdtemp(prefix="kefu-counter-")
    with open(os.path.join(tmp, "accounts.csv"), "w") as f:
        f.write("990001,111111,王五,1.00\n")
    port = free_port()
    sim = subprocess.Popen([os.path.join(BUILD, "src", "kefu-counter-sim"), "--listen", f"127.0.0.1:{port}",
                            "--accounts", os.path.join(tmp, "accounts.csv"), "--delay-ms", "20"],
                           stdout=subprocess.PIPE, text=True)
    assert "listening" in sim.stdout.readline()
    k = Kefud(KEFU_CTI_COUNTER_URL=f"http://127.0.0.1:{port}").start()
    try:
        lina = Client(k.base).login("lina", DEMO_PW)

        def call_and_key(number, *keys):
            before = int(query(k.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])
            leg = lina.post("/api/v1/cti/sim/calls", {"from": number, "to": "95588"}).json()["leg"]
            wait_until(lambda: query(k.db, f"SELECT 1 FROM cti_ivr_path WHERE call_id > {before}"))
            for d in keys:
                assert lina.post(f"/api/v1/cti/sim/legs/{leg}/digits", {"digits": d}).status == 200
                time.sleep(0.3)
            path = lambda: [(r[0], r[1]) for r in query(  # noqa: E731
                k.db, f"SELECT node, result FROM cti_ivr_path WHERE call_id > {before} ORDER BY seq")]
            return leg, path

        # The counter knows him: verified, and the balance node reads his funds from it.
        leg, path = call_and_key("13700007001", "1", "990001#", "111111")
        assert wait_until(lambda: ("balance", "ok") in path() and path()), path()
        assert ("verify", "verified") in path()
        lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
        # A wrong password: the counter says no, the menu does not verify him.
        leg, path = call_and_key("13700007002", "1", "990001#", "999999")
        wait_until(lambda: any(n == "verify" and r != "verified" for n, r in path()))
        assert ("verify", "not_verified") in path(), path()
        lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
        # The counter is down: no answer is a no, and the caller is not stuck in the menu.
        sim.terminate()
        sim.wait(10)
        leg, path = call_and_key("13700007003", "1", "990001#", "111111")
        wait_until(lambda: any(n == "verify" and r != "verified" for n, r in path()), timeout=10)
        assert ("verify", "not_verified") in path(), path()
        lina.post(f"/api/v1/cti/sim/legs/{leg}/hang-up")
        assert "counter: verify for call" in open(k.log_path).read()  # the operator sees why
    finally:
        if sim.poll() is None:
            sim.kill()
        k.stop()
