"""The SIP softswitch with real SIP: SIPp as the customer's phone and as an agent's phone that
registers its extension with digest authentication; a call in through the queue to the agent and
back out with a BYE, stored as a CDR; OPTIONS probes and bad SIP input get the right answers."""
import os
import socket
import subprocess
import time
import uuid

import pytest

from conftest import DEMO_PW, Client, Kefud, free_port, query, wait_until

SCENARIOS = os.path.join(os.path.dirname(__file__), "..", "sip")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def sip():
    port = free_udp_port()
    k = Kefud(db=os.environ.get("KEFU_TEST_DB_SIP"), KEFU_CTI_SIP_LISTEN=f"127.0.0.1:{port}",
              KEFU_CTI_RING_TIMEOUT_S="10", KEFU_CTI_WRAP_UP_S="1").start()
    k.sip_port = port
    yield k
    k.stop()


def sipp(k, scenario, *args, wait=True):
    cmd = ["sipp", "-sf", os.path.join(SCENARIOS, scenario), "-m", "1", "-i", "127.0.0.1",
           "-timeout", "30s", "-timeout_error", "-nostdin", *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=k.tmp)
    if wait:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out[-3000:]
    return p


def udp_request(port, text, timeout=3.0):
    """One SIP request over UDP; the first final response's status line and headers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    local = s.getsockname()[1]
    s.sendto(text.replace("{local}", str(local)).replace("\n", "\r\n").encode(), ("127.0.0.1", port))
    try:
        while True:
            data = s.recv(65535).decode(errors="replace")
            status = int(data.split(" ", 2)[1])
            if status >= 200:
                return status, data
    finally:
        s.close()


def request(method, port, to="95555", body="", extra=""):
    branch = "z9hG4bK" + uuid.uuid4().hex[:12]
    call_id = uuid.uuid4().hex
    return (f"{method} sip:{to}@127.0.0.1:{port} SIP/2.0\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{{local}};branch={branch}\n"
            f"From: <sip:tester@127.0.0.1:{{local}}>;tag=t{call_id[:8]}\n"
            f"To: <sip:{to}@127.0.0.1:{port}>\nCall-ID: {call_id}\nCSeq: 1 {method}\n"
            f"Contact: <sip:tester@127.0.0.1:{{local}}>\nMax-Forwards: 70\n{extra}"
            f"Content-Length: {len(body.encode())}\n\n{body}")


def test_a_call_in_through_the_queue_rings_the_agents_registered_phone_and_is_recorded(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    ext = liu.get("/api/v1/cti/me").json()["agent"]["extension"]
    phone_port = free_udp_port()
    # The phone registers (401 challenge, then digest with qop=auth) before the agent signs in.
    phone = sipp(sip, "agent_phone.xml", "-p", str(phone_port), wait=False)
    sipp(sip, "register.xml", "-s", ext, "-au", ext, "-ap", f"Kefu@{ext}", "-key", "phone_port", str(phone_port),
         f"127.0.0.1:{sip.sip_port}")
    assert liu.post("/api/v1/cti/agent/sign-in", {}).status == 200
    assert liu.post("/api/v1/cti/agent/ready", {}).status == 200
    # The customer calls the hotline; the queue offers the call to liuyang, whose phone rings and
    # answers; the customer hangs up after four seconds.
    sipp(sip, "caller.xml", "-s", "95555", f"127.0.0.1:{sip.sip_port}")
    out, _ = phone.communicate(timeout=30)
    assert phone.returncode == 0, out[-3000:]
    wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] in ("wrap_up", "ready"))
    rows = query(sip.db, "SELECT id, disposition FROM cti_call WHERE ani = '13912345678' AND dnis = '95555'")
    assert len(rows) == 1 and rows[0][1] == "completed", rows
    kinds = [r[0] for r in query(sip.db, f"SELECT kind || ':' || result FROM cti_segment WHERE call_id = {rows[0][0]} ORDER BY seq")]
    assert "queue:answered" in kinds and "ring:answered" in kinds and "talk:completed" in kinds, kinds
    liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_caller_over_tcp_who_hangs_up_in_the_queue_is_an_abandon(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    assert liu.post("/api/v1/cti/agent/sign-in", {}).status == 200  # signed in, not ready
    try:
        sipp(sip, "caller.xml", "-t", "t1", "-s", "95555", f"127.0.0.1:{sip.sip_port}")
        rows = wait_until(lambda: query(sip.db, "SELECT id, disposition FROM cti_call WHERE ani = '13912345678' "
                                                "AND ended_at IS NOT NULL ORDER BY id DESC LIMIT 1"))
        assert rows[0][1] == "abandoned", rows
        events = [r[0] for r in query(sip.db, f"SELECT event FROM cti_queue_log WHERE call_id = {rows[0][0]} ORDER BY id")]
        assert events == ["enter", "abandon"], events
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_wrong_secret_is_refused_and_an_unregistered_extension_is_not_called(sip):
    r = subprocess.run(["sipp", "-sf", os.path.join(SCENARIOS, "register.xml"), "-m", "1", "-i", "127.0.0.1",
                        "-s", "8004", "-au", "8004", "-ap", "wrong", "-key", "phone_port", "5999",
                        "-timeout", "10s", "-timeout_error", "-nostdin", f"127.0.0.1:{sip.sip_port}"],
                       capture_output=True, text=True, cwd=sip.tmp, timeout=30)
    assert r.returncode != 0  # the second REGISTER gets 403, not the 200 the scenario wants
    status, _ = udp_request(sip.sip_port, request("REGISTER", sip.sip_port, to="8005",
                                                  extra='Authorization: Digest username="8005", realm="kefu", '
                                                        'nonce="1.abc", uri="sip:127.0.0.1", response="00"\n'))
    assert status == 403


def test_options_probes_and_bad_input_get_the_right_answers(sip):
    status, text = udp_request(sip.sip_port, request("OPTIONS", sip.sip_port))
    assert status == 200, text
    # Only codecs Kefu does not speak: 488 with the reason.
    g729 = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n"
    status, text = udp_request(sip.sip_port, request("INVITE", sip.sip_port, body=g729, extra="Content-Type: application/sdp\n"))
    assert status == 488 and "no_common_codec" in text, text
    # Broken SDP, and no SDP at all.
    status, text = udp_request(sip.sip_port, request("INVITE", sip.sip_port, body="v=0\nnonsense\n", extra="Content-Type: application/sdp\n"))
    assert status == 488, text
    status, _ = udp_request(sip.sip_port, request("INVITE", sip.sip_port))
    assert status == 488
    # A malformed request line and garbage: no answer is required, but the switch must live on.
    for junk in ["INVITE\n\n", "\x00\xff" * 100, "SIP/2.0 200 OK\n\n"]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(junk.encode("latin-1"), ("127.0.0.1", sip.sip_port))
        s.close()
    status, _ = udp_request(sip.sip_port, request("OPTIONS", sip.sip_port))
    assert status == 200
    # A flood of INVITEs to a number that leads nowhere: each gets its final answer.
    answers = [udp_request(sip.sip_port, request("INVITE", sip.sip_port, to="99999", body=g729.replace("18", "0").replace("G729", "PCMU"),
                                                 extra="Content-Type: application/sdp\n"))[0] for _ in range(50)]
    assert set(answers) == {404}, answers
    status, _ = udp_request(sip.sip_port, request("OPTIONS", sip.sip_port))
    assert status == 200
