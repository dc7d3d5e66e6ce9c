"""Scale-out (issue 6): two kefud SIP nodes on one PostgreSQL behind Kamailio's dispatcher, which
probes them with OPTIONS. Calls spread over both; a stopped node gets no new calls; a node that
restarts closes only its own calls, never a call the other node is carrying."""
import os
import signal
import subprocess
import tempfile
import time

import pytest
from conftest import Kefud, query, wait_until
from test_sip import free_udp_port, sipp

DB = os.environ.get("KEFU_TEST_DB_CLUSTER")
pytestmark = pytest.mark.skipif(not DB, reason="nodes of a cluster share PostgreSQL (tests/run-api.sh sets it)")

# The documented configuration (docs/OPERATIONS.md), with this test's port and node list.
KAMAILIO_CFG = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "kamailio-dispatcher.cfg")).read()


def node(name, sip_port):
    k = Kefud(db=DB, KEFU_CTI_SIP_LISTEN=f"127.0.0.1:{sip_port}", KEFU_CTI_NODE=name, KEFU_CTI_RING_TIMEOUT_S="5")
    k.env["KEFU_CTI_RECORDING_DIR"] = os.path.join(k.tmp, "recordings")
    k.sip_port = sip_port
    return k.start()


def calls_by_node(since_id):
    return dict(query(DB, f"SELECT node, COUNT(*) FROM cti_call WHERE id > {since_id} AND ani = '13912345678' GROUP BY node"))


def test_two_nodes_behind_kamailio_share_calls_and_survive_each_other():
    sip_a, sip_b, kport = free_udp_port(), free_udp_port(), free_udp_port()
    a = node("node-a", sip_a)
    b = node("node-b", sip_b)
    tmp = tempfile.mkdtemp(prefix="kefu-kamailio-")
    with open(os.path.join(tmp, "dispatcher.list"), "w") as f:
        f.write(f"1 sip:127.0.0.1:{sip_a}\n1 sip:127.0.0.1:{sip_b}\n")
    cfg = os.path.join(tmp, "kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(KAMAILIO_CFG.format(port=kport, dispatcher=os.path.join(tmp, "dispatcher.list")))
    kam = subprocess.Popen(["kamailio", "-f", cfg, "-DD", "-E", "-m", "64", "-M", "8"],
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "kamailio.log"), "w"))
    try:
        time.sleep(2)  # the first OPTIONS round
        assert kam.poll() is None, open(os.path.join(tmp, "kamailio.log")).read()[-2000:]
        start = int(query(DB, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])
        # Ten callers through Kamailio: each node takes its share (round robin).
        sipp(a, "caller.xml", "-s", "95555", "-m", "10", "-r", "5", "-l", "10", f"127.0.0.1:{kport}")
        spread = wait_until(lambda: (d := calls_by_node(start)) and sum(map(int, d.values())) == 10 and d)
        assert int(spread.get("node-a", 0)) >= 3 and int(spread.get("node-b", 0)) >= 3, spread
        # Each call is one row with one id: the nodes' id blocks do not meet.
        blocks = query(DB, "SELECT node, first_id FROM cti_id_block ORDER BY first_id DESC LIMIT 2")
        assert {n for n, _ in blocks} == {"node-a", "node-b"}, blocks

        # A call is up on node A while node B restarts: B closes only what was its own.
        up = sipp(a, "caller.xml", "-s", "95555", f"127.0.0.1:{sip_a}", wait=False)
        live = wait_until(lambda: query(DB, f"SELECT id FROM cti_call WHERE id > {start} AND node = 'node-a' "
                                            "AND ended_at IS NULL"))
        b.kill()
        b.start()
        assert query(DB, f"SELECT COALESCE(ended_at, 0) FROM cti_call WHERE id = {live[0][0]}")[0][0] == "0"
        out, _ = up.communicate(timeout=30)
        assert up.returncode == 0, out[-2000:]
        assert query(DB, f"SELECT disposition FROM cti_call WHERE id = {live[0][0]}")[0][0] != "system_restart"

        # Node B stops: Kamailio's probe marks it down and every new call goes to node A.
        b.stop()
        time.sleep(3)
        before = calls_by_node(start)
        sipp(a, "caller.xml", "-s", "95555", "-m", "6", "-r", "5", "-l", "6", f"127.0.0.1:{kport}")
        after = wait_until(lambda: (d := calls_by_node(start)) and int(d["node-a"]) == int(before["node-a"]) + 6 and d)
        assert after["node-b"] == before["node-b"], (before, after)
    finally:
        kam.send_signal(signal.SIGTERM)
        kam.wait(10)
        a.stop()
        if b.proc.poll() is None:
            b.stop()
