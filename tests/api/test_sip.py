"""The SIP softswitch with real SIP: SIPp as the customer's phone and as an agent's phone that
registers its extension with digest authentication; a call in through the queue to the agent and
back out with a BYE, stored as a CDR; OPTIONS probes and bad SIP input get the right answers."""
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)  # audioop: fine until Python 3.13
import audioop  # noqa: E402
import io
import math
import os
import random
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
import wave

import pytest

from conftest import ADMIN_PW, DEMO_PW, Client, Kefud, free_port, new_database, query, wait_until

SCENARIOS = os.path.join(os.path.dirname(__file__), "..", "sip")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sip_switch(db):
    """A kefud with the SIP softswitch on a free UDP/TCP port and a trunk gateway port (unused
    unless a test starts a trunk there), on database `db` (None: a new SQLite file)."""
    port, gateway = free_udp_port(), free_udp_port()
    k = Kefud(db=db, KEFU_CTI_SIP_LISTEN=f"127.0.0.1:{port}",
              KEFU_CTI_SIP_GATEWAY=f"127.0.0.1:{gateway}", KEFU_CTI_RING_TIMEOUT_S="10", KEFU_CTI_WRAP_UP_S="1",
              KEFU_CTI_SIP_GATEWAY_USER="kefu-trunk", KEFU_CTI_SIP_GATEWAY_PASSWORD="Trunk@2026")
    k.gateway_port = gateway
    k.env["KEFU_CTI_RECORDING_DIR"] = os.path.join(k.tmp, "recordings")
    k.env["KEFU_CTI_PROMPT_DIR"] = os.path.join(k.tmp, "prompts")
    k.start()
    k.sip_port = port
    return k


@pytest.fixture(scope="module")
def sip():
    k = sip_switch(os.environ.get("KEFU_TEST_DB_SIP"))
    yield k
    k.stop()


@pytest.fixture
def own_sip():
    """A switch for one test alone, for what would outlive the test on the shared one (a callback
    that waits for hours, a call still up when kefud stops)."""
    k = sip_switch(new_database())
    yield k
    if k.proc.poll() is None:
        k.kill()


# What the running test started: SIPp processes and Python phones. The `clean_switch` fixture
# ends them after each test, pass or fail.
STARTED = {"procs": [], "phones": []}


def udp_port_taken(port):
    """Whether some process has bound `port` on loopback (so it can receive what is sent there)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def listening(proc, *ports, what="SIPp"):
    """Waits until `proc` has bound every one of `ports`: a phone that is not listening yet would
    get the switch's INVITE as an ICMP error and count as not answering."""
    def ready():
        if proc.poll() is not None:
            out = proc.stdout.read()[-2000:] if proc.stdout else ""
            raise AssertionError(f"{what} exited with {proc.returncode} before listening: {out}")
        return all(udp_port_taken(p) for p in ports)
    wait_until(ready, timeout=15, what=f"{what} listening on UDP {', '.join(map(str, ports))}")
    return proc


def sipp(k, scenario, *args, wait=True, listen=()):
    """SIPp with one scenario; wait=False leaves it running (a phone or a trunk) once it listens
    on every port of `listen`."""
    cmd = ["sipp", "-sf", os.path.join(SCENARIOS, scenario), "-m", "1", "-i", "127.0.0.1",
           "-timeout", "30s", "-timeout_error", "-nostdin", *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=k.tmp)
    STARTED["procs"].append(p)
    if wait:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out[-3000:]
    elif listen:
        listening(p, *listen, what=f"SIPp {scenario}")
    return p


def register(port, ext, secret, expires=300, local=None, contact_port=None):
    """REGISTER (or, with expires=0, unregister every binding of) `ext` over UDP, answering the
    digest challenge; returns the final status."""
    import hashlib
    md5 = lambda x: hashlib.md5(x.encode()).hexdigest()  # noqa: E731
    s = local or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if local is None:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
    me = s.getsockname()[1]
    contact = "*" if expires == 0 else f"<sip:{ext}@127.0.0.1:{contact_port or me}>"
    call_id, uri, auth = uuid.uuid4().hex, f"sip:127.0.0.1:{port}", ""
    try:
        for cseq in (1, 2):
            msg = (f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
                   f"From: <sip:{ext}@127.0.0.1>;tag=r{cseq}\r\nTo: <sip:{ext}@127.0.0.1>\r\n"
                   f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\n"
                   f"{auth}Expires: {expires}\r\nContent-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", port))
            while True:  # skip anything else the switch sends this socket meanwhile
                data = s.recv(65535).decode()
                if data.startswith("SIP/2.0") and f"{cseq} REGISTER" in data:
                    break
            status = int(data.split(" ", 2)[1])
            if status != 401:
                return status
            challenge = [l for l in data.split("\r\n") if l.lower().startswith("www-authenticate:")][0]
            params = dict(p.strip().split("=", 1) for p in challenge.split(" ", 2)[2].split(","))
            realm, nonce = params["realm"].strip('"'), params["nonce"].strip('"')
            ha1, ha2 = md5(f"{ext}:{realm}:{secret}"), md5(f"REGISTER:{uri}")
            response = md5(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}")
            auth = (f'Authorization: Digest username="{ext}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                    f'response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"\r\n')
        return status
    finally:
        if local is None:
            s.close()


def switch_state(sip, admin):
    """What is live on the switch: calls, agents not signed out, registered phones, SIP and RTP legs."""
    live = admin.get("/api/v1/cti/live").json()
    g = gauges(sip)
    return {"calls": [(c["id"], c["ani"], c["dnis"], c["phase"]) for c in live["calls"]],
            "signed_in": [a["username"] for a in live["agents"] if a["state"] != "signed_out"],
            "registered": [a["extension"] for a in live["agents"] if a["phone_registered"]],
            "sip_legs": g["kefu_sip_legs"], "media_legs": g["kefu_media_legs"]}


def is_clean(state):
    return not state["calls"] and not state["signed_in"] and not state["registered"] \
        and state["sip_legs"] == 0 and state["media_legs"] == 0


@pytest.fixture(autouse=True)
def clean_switch(request, sip):
    """Every SIP test starts with no call, every agent signed out and no phone registered, and
    leaves it so, pass or fail: its phones are hung up and stopped, its agents signed out, its
    registrations removed. A test that leaves something the switch cannot end fails here, naming it."""
    admin = Client(sip.base).login("admin", ADMIN_PW)
    wait_until(lambda: is_clean(switch_state(sip, admin)), timeout=40,
               what="a clean switch before the test (no call, agent or phone left by an earlier one)",
               show=lambda: switch_state(sip, admin))
    STARTED["procs"].clear()
    STARTED["phones"].clear()
    yield
    for phone in STARTED["phones"]:
        phone.leave()
    for p in STARTED["procs"]:
        if p.poll() is None:
            p.kill()
            p.wait(10)

    def tidy():
        for phone in STARTED["phones"]:
            phone.answer_byes()  # a BYE left unanswered keeps its leg for 32 s
        state = switch_state(sip, admin)
        for name in state["signed_in"]:
            admin.post("/api/v1/cti/supervisor/force-sign-out", {"agent": name})
        for ext in state["registered"]:
            register(sip.sip_port, ext, f"Kefu@{ext}", expires=0)
        return is_clean(state)
    wait_until(tidy, timeout=40, what=f"{request.node.name} to leave no call, agent or phone behind",
               show=lambda: switch_state(sip, admin))
    for phone in STARTED["phones"]:
        phone.close()


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


def test_an_agent_dials_out_through_the_gateway(sip):
    # The trunk (SIPp) answers whatever the switch sends it; the agent's own phone is simulated.
    trunk = sipp(sip, "agent_phone.xml", "-p", str(sip.gateway_port), wait=False, listen=[sip.gateway_port])
    chen = Client(sip.base).login("chenjing", DEMO_PW)
    try:
        assert chen.post("/api/v1/cti/agent/sign-in", {}).status == 200
        r = chen.post("/api/v1/cti/agent/dial", {"number": "13800001111"})
        assert r.status == 200, r.body
        wait_until(lambda: (chen.get("/api/v1/cti/me").json()["call"] or {}).get("phase") == "talking", timeout=10)
        assert chen.post("/api/v1/cti/agent/hang-up", {}).status == 200
        out, _ = trunk.communicate(timeout=30)  # it got the INVITE, answered, and got the BYE
        assert trunk.returncode == 0, out[-3000:]
        rows = wait_until(lambda: query(sip.db, "SELECT direction, disposition FROM cti_call WHERE dnis = '13800001111' "
                                                "AND ended_at IS NOT NULL"))
        assert rows == [("outbound", "completed")], rows
    finally:
        if trunk.poll() is None:
            trunk.kill()
        chen.post("/api/v1/cti/agent/sign-out", {})


def test_a_trunk_that_challenges_gets_the_configured_account(sip):
    # The trunk answers 401 first; the switch answers its digest challenge with the configured
    # account (PCMA on the trunk, the agent's simulated phone in between).
    trunk = sipp(sip, "gateway_auth.xml", "-p", str(sip.gateway_port), wait=False, listen=[sip.gateway_port])
    chen = Client(sip.base).login("chenjing", DEMO_PW)
    try:
        assert chen.post("/api/v1/cti/agent/sign-in", {}).status == 200
        assert chen.post("/api/v1/cti/agent/dial", {"number": "13800002222"}).status == 200
        wait_until(lambda: (chen.get("/api/v1/cti/me").json()["call"] or {}).get("phase") == "talking", timeout=10)
        assert chen.post("/api/v1/cti/agent/hang-up", {}).status == 200
        out, _ = trunk.communicate(timeout=30)
        assert trunk.returncode == 0, out[-3000:]
    finally:
        if trunk.poll() is None:
            trunk.kill()
        chen.post("/api/v1/cti/agent/sign-out", {})


def test_a_call_in_through_the_queue_rings_the_agents_registered_phone_and_is_recorded(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    ext = liu.get("/api/v1/cti/me").json()["agent"]["extension"]
    phone_port = free_udp_port()
    # The phone registers (401 challenge, then digest with qop=auth) before the agent signs in.
    phone = sipp(sip, "agent_phone.xml", "-p", str(phone_port), wait=False, listen=[phone_port])
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


def test_a_call_takes_a_session_timer_so_a_vanished_caller_cannot_stay_forever(sip):
    # RFC 4028: the caller asks for a 120 s session refreshed by himself; the switch agrees (and
    # would end the call if no refresh came). A Session-Expires below 90 s is refused with 422.
    uac = Uac(sip.sip_port, "95588")
    uac.call(extra="Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n")
    head = uac.answer.split("\r\n\r\n", 1)[0]
    headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in head.split("\r\n") if ":" in l}
    assert headers.get("session-expires", "").startswith("120") and "refresher=uac" in headers["session-expires"], head
    uac.hang_up()
    sdp = ("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
           "m=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n")
    status, reply = udp_request(sip.sip_port, request("INVITE", sip.sip_port, "95588", sdp,
                                                      "Content-Type: application/sdp\nSupported: timer\n"
                                                      "Session-Expires: 30\n"))
    assert status == 422 and "min-se: 90" in reply.lower(), reply


def test_the_agents_phone_transfers_with_its_own_button(sip):
    """The phone sends REFER in the call: the switch moves the caller on (here to the menu),
    tells the phone in a NOTIFY, and ends the phone's part with a BYE."""
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    ext = liu.get("/api/v1/cti/me").json()["agent"]["extension"]
    phone_port = free_udp_port()
    phone = sipp(sip, "agent_refer.xml", "-p", str(phone_port), "-key", "refer_to", "95588", "-trace_msg", wait=False,
                 listen=[phone_port])
    sipp(sip, "register.xml", "-s", ext, "-au", ext, "-ap", f"Kefu@{ext}", "-key", "phone_port", str(phone_port),
         f"127.0.0.1:{sip.sip_port}")
    assert liu.post("/api/v1/cti/agent/sign-in", {}).status == 200
    assert liu.post("/api/v1/cti/agent/ready", {}).status == 200
    before = int(query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])
    sipp(sip, "caller.xml", "-s", "95555", f"127.0.0.1:{sip.sip_port}")
    out, _ = phone.communicate(timeout=30)
    assert phone.returncode == 0, out[-3000:]
    call = wait_until(lambda: query(sip.db, f"SELECT id FROM cti_call WHERE id > {before} AND ended_at IS NOT NULL"))[0][0]
    events = [r[0] for r in query(sip.db, f"SELECT type || ':' || detail FROM cti_call_event WHERE call_id = {call} ORDER BY id")]
    assert any(e.startswith("transferred:ivr:") for e in events), events
    assert query(sip.db, f"SELECT COUNT(*) FROM cti_ivr_path WHERE call_id = {call}")[0][0] != "0"
    wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] in ("wrap_up", "ready"))
    liu.post("/api/v1/cti/agent/sign-out", {})


class Phone:
    """A SIP socket and an RTP socket on loopback, talking to the switch on `port`."""

    def __init__(self, port):
        self.port = port
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.sip.settimeout(5)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.setblocking(False)
        self.local, self.rtp_port = self.sip.getsockname()[1], self.rtp.getsockname()[1]
        self.seq, self.ts, self.media_port = 1000, 160000, 0
        STARTED["phones"].append(self)

    def leave(self):
        """Ends whatever call this phone is still in (at a test's end)."""

    def answer_byes(self):
        """Answers every BYE waiting on the SIP socket."""

    def close(self):
        self.sip.close()
        self.rtp.close()

    def hears_the_switch(self, timeout=5):
        """Waits until the switch sends this phone RTP: its leg is in the call's mix."""
        def got():
            try:
                return len(self.rtp.recv(2048)) > 12
            except BlockingIOError:
                return False
        wait_until(got, timeout=timeout, step=0.005, what=f"RTP from the switch on port {self.rtp_port}")

    def talk(self, seconds, hz=440):
        """Says a tone for `seconds` in 20 ms PCMU packets, without reading what comes back."""
        tone = audioop.lin2ulaw(b"".join(int(8000 * math.sin(2 * math.pi * hz * i / 8000)).to_bytes(2, "little", signed=True)
                                         for i in range(160)), 2)
        end = time.time() + seconds
        while time.time() < end:
            self._rtp(0, tone)
            time.sleep(0.02)

    def _rtp(self, pt, payload, advance=True):
        self.seq = (self.seq + 1) & 0xFFFF
        if advance:
            self.ts += 160
        header = bytes([0x80, pt]) + self.seq.to_bytes(2, "big") + (self.ts & 0xFFFFFFFF).to_bytes(4, "big") + (0x1234).to_bytes(4, "big")
        self.rtp.sendto(header + payload, ("127.0.0.1", self.media_port))

    def heard(self, seconds):
        """The loudness (RMS) of the PCMU the switch sends over `seconds`."""
        pcm, end = b"", time.time() + seconds
        while time.time() < end:
            try:
                pcm += audioop.ulaw2lin(self.rtp.recv(2048)[12:], 2)
            except BlockingIOError:
                time.sleep(0.005)
        self.last_heard = pcm
        return audioop.rms(pcm, 2) if pcm else 0

    def tone_share(self, hz):
        """How much of what was last heard is a tone of `hz` (Goertzel): about 1 for the pure tone,
        near 0 for anything else."""
        x = [int.from_bytes(self.last_heard[i:i + 2], "little", signed=True) for i in range(0, len(self.last_heard), 2)]
        energy = sum(v * v for v in x)
        if not energy:
            return 0.0
        w = 2 * math.pi * hz / 8000
        re = sum(v * math.cos(w * n) for n, v in enumerate(x))
        im = sum(v * math.sin(w * n) for n, v in enumerate(x))
        return 2 * (re * re + im * im) / (len(x) * energy)


class Uac(Phone):
    """A customer's phone in Python: INVITE with an SDP offer, ACK, RTP both ways, RFC 4733
    digits, BYE — enough to see the audio and the keys go through the switch."""

    def __init__(self, port, to):
        super().__init__(port)
        self.to = to
        self.call_id, self.tag, self.cseq = uuid.uuid4().hex, uuid.uuid4().hex[:8], 1
        self.remote_tag = ""
        self.got_bye = self.hung_up = False

    def _send(self, method, body="", extra=""):
        to_tag = f";tag={self.remote_tag}" if self.remote_tag else ""
        msg = (f"{method} sip:{self.to}@127.0.0.1:{self.port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{self.local};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
               f"From: <sip:13700000001@127.0.0.1:{self.local}>;tag={self.tag}\r\n"
               f"To: <sip:{self.to}@127.0.0.1:{self.port}>{to_tag}\r\nCall-ID: {self.call_id}\r\n"
               f"CSeq: {self.cseq if method != 'ACK' else 1} {method}\r\n"
               f"Contact: <sip:13700000001@127.0.0.1:{self.local}>\r\nMax-Forwards: 70\r\n{extra}"
               f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.sip.sendto(msg.encode(), ("127.0.0.1", self.port))

    def call(self, telephone_event=True, extra=""):
        events = "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n" if telephone_event else ""
        sdp = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.rtp_port} RTP/AVP 0{' 101' if telephone_event else ''}\r\na=rtpmap:0 PCMU/8000\r\n"
               + events)
        self._send("INVITE", sdp, "Content-Type: application/sdp\r\n" + extra)
        while True:
            data = self.sip.recv(65535).decode()
            status = int(data.split(" ", 2)[1])
            if status >= 200:
                break
        assert status == 200, data
        self.answer = data
        head, body = data.split("\r\n\r\n", 1)
        self.remote_tag = head.split("\r\nTo:", 1)[1].split("\r\n")[0].split("tag=")[1].strip()
        self.media_port = int([l for l in body.split("\r\n") if l.startswith("m=audio")][0].split()[1])
        self._send("ACK")

    def audio(self, seconds, payload_type=0):
        """Sends 20 ms packets for `seconds`; returns (sent, received back with our payloads)."""
        sent = received = 0
        end = time.time() + seconds
        # A 440 Hz tone in PCMU, marked so that what comes back can be told from anything else.
        tone = audioop.lin2ulaw(b"".join(int(8000 * math.sin(2 * math.pi * 440 * i / 8000)).to_bytes(2, "little", signed=True)
                                         for i in range(152)), 2)
        while time.time() < end:
            payload = b"KEFU" + sent.to_bytes(4, "big") + tone
            self._rtp(payload_type, payload)
            sent += 1
            while True:
                try:
                    pkt = self.rtp.recv(2048)
                except BlockingIOError:
                    break
                if len(pkt) >= 12 + 4 and pkt[12:16] == b"KEFU":
                    received += 1
                    self.kefu_ssrc = int.from_bytes(pkt[8:12], "big")
            self._check_bye()
            time.sleep(0.02)
        return sent, received

    def report(self, lost, jitter):
        """An RTCP receiver report on the switch's stream (RFC 3550 6.4.2) to the port above RTP."""
        block = (self.kefu_ssrc.to_bytes(4, "big") + (lost & 0xFFFFFF).to_bytes(4, "big")
                 + (0).to_bytes(4, "big") + jitter.to_bytes(4, "big") + bytes(8))
        rr = bytes([0x81, 201]) + (7).to_bytes(2, "big") + (0x1234).to_bytes(4, "big") + block
        self.rtp.sendto(rr, ("127.0.0.1", self.media_port + 1))

    def keys_heard(self, seconds):
        """The RFC 4733 keys (payload type 101) the switch sends over `seconds`, one per event."""
        keys, seen, end = "", set(), time.time() + seconds
        while time.time() < end:
            try:
                pkt = self.rtp.recv(2048)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            if len(pkt) >= 16 and (pkt[1] & 0x7F) == 101:
                ts = int.from_bytes(pkt[4:8], "big")
                if ts not in seen:
                    seen.add(ts)
                    keys += "0123456789*#ABCD"[pkt[12]]
        return keys

    def key(self, digit):
        """One RFC 4733 event: three packets with one timestamp, the last two with the end bit."""
        event = "0123456789*#".index(digit)
        self.ts += 160
        for end, duration in ((0, 400), (1, 800), (1, 800)):
            self._rtp(101, bytes([event, (end << 7) | 10]) + duration.to_bytes(2, "big"), advance=False)
            time.sleep(0.02)

    def tone_key(self, digit):
        """A key as an old phone sends it without telephone-event: 100 ms of its two tones (Q.23)
        in the PCMU audio, then 60 ms of silence."""
        lo, hi = {"0": (941, 1336), "1": (697, 1209), "5": (770, 1336), "#": (941, 1477)}[digit]
        pcm = b"".join(int(4000 * (math.sin(2 * math.pi * lo * i / 8000) + math.sin(2 * math.pi * hi * i / 8000)))
                       .to_bytes(2, "little", signed=True) for i in range(800)) + b"\0\0" * 480
        for i in range(0, len(pcm), 320):
            self._rtp(0, audioop.lin2ulaw(pcm[i:i + 320], 2))
            time.sleep(0.02)

    def _check_bye(self):
        """Answers a BYE if one came (everything else waiting on the socket is dropped)."""
        self.sip.setblocking(False)
        try:
            while True:
                data = self.sip.recv(65535).decode()
                if data.startswith("BYE"):
                    self.got_bye = True
                    via = [l for l in data.split("\r\n") if l.lower().startswith(("via:", "from:", "to:", "call-id:", "cseq:"))]
                    self.sip.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(via) + "\r\nContent-Length: 0\r\n\r\n").encode(),
                                    ("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        finally:
            self.sip.settimeout(5)

    def wait_bye(self, seconds):
        end = time.time() + seconds
        while time.time() < end and not self.got_bye:
            self._check_bye()
            time.sleep(0.05)
        return self.got_bye

    def hang_up(self):
        self.cseq += 1
        self._send("BYE")
        self.hung_up = True

    def leave(self):
        if self.remote_tag and not self.got_bye and not self.hung_up:
            self.hang_up()

    def answer_byes(self):
        self._check_bye()


def echoing_phone_ready(sip, agent):
    """The agent's phone (SIPp echoing every RTP packet back to where it came from) registered,
    and the agent signed in and ready."""
    ext = agent.get("/api/v1/cti/me").json()["agent"]["extension"]
    phone_port, echo_port = free_udp_port(), free_udp_port()
    phone = sipp(sip, "agent_phone.xml", "-p", str(phone_port), "-mp", str(echo_port), "-rtp_echo", wait=False,
                 listen=[phone_port, echo_port])
    sipp(sip, "register.xml", "-s", ext, "-au", ext, "-ap", f"Kefu@{ext}", "-key", "phone_port", str(phone_port),
         f"127.0.0.1:{sip.sip_port}")
    agent.post("/api/v1/cti/agent/sign-in", {})
    agent.post("/api/v1/cti/agent/ready", {})
    return phone


class Uas(Phone):
    """A supervisor's or an agent's phone in Python: registers its extension (answering the digest
    challenge), answers the INVITE the core sends it, says a tone when told to and keeps what it
    hears."""

    def __init__(self, port, ext, secret):
        super().__init__(port)
        self.ext, self.secret = ext, secret
        self.got_bye = False

    def register(self):
        status = register(self.port, self.ext, self.secret, local=self.sip)
        assert status == 200, status

    def _reply(self, request, status, body="", extra=""):
        keep = [l for l in request.split("\r\n") if l.lower().startswith(("via:", "from:", "call-id:", "cseq:"))]
        to = [l for l in request.split("\r\n") if l.lower().startswith("to:")][0]
        if "tag=" not in to:
            to += ";tag=sup1"
        msg = (f"SIP/2.0 {status}\r\n" + "\r\n".join(keep) + f"\r\n{to}\r\nContact: <sip:{self.ext}@127.0.0.1:{self.local}>\r\n"
               f"{extra}Content-Length: {len(body)}\r\n\r\n{body}")
        self.sip.sendto(msg.encode(), ("127.0.0.1", self.port))

    def answer(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            data = self.sip.recv(65535).decode()
            if data.startswith("INVITE"):
                return self.answer_invite(data)
        return False

    def heard(self, seconds):
        loudness = super().heard(seconds)
        # BYE and ACK may be waiting: answer a BYE politely.
        self.sip.setblocking(False)
        try:
            while True:
                data = self.sip.recv(65535).decode()
                if data.startswith("BYE"):
                    self.got_bye = True
                    self._reply(data, "200 OK")
        except BlockingIOError:
            pass
        finally:
            self.sip.settimeout(5)
        return loudness

    def ring_until_told_to_answer(self, timeout=10):
        """A phone that rings (180) and answers only when the switch sends it a NOTIFY "talk" —
        the desk's answer button, as Yealink and Polycom phones take it."""
        end = time.time() + timeout
        while time.time() < end:
            data = self.sip.recv(65535).decode()
            if data.startswith("INVITE"):
                invite = data
                self._reply(invite, "180 Ringing")
                self.ringing = True
            elif data.startswith("NOTIFY"):
                self._reply(data, "200 OK")
                assert "event: talk" in data.lower(), data
                return self.answer_invite(invite)
        return False

    def answer_invite(self, data):
        self.invite = data
        body = data.split("\r\n\r\n", 1)[1]
        self.media_port = int([l for l in body.split("\r\n") if l.startswith("m=audio")][0].split()[1])
        sdp = (f"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
        self._reply(data, "200 OK", sdp, "Content-Type: application/sdp\r\n")
        return True

    def _dialog(self):
        """The request target and the headers of requests this phone sends in the call."""
        head = self.invite.split("\r\n\r\n", 1)[0].split("\r\n")
        field = lambda name: next(l.split(":", 1)[1].strip() for l in head if l.lower().startswith(name + ":"))  # noqa: E731
        target = field("contact").strip("<>").split(">")[0]
        common = (f"From: {field('to')}{'' if 'tag=' in field('to') else ';tag=sup1'}\r\nTo: {field('from')}\r\n"
                  f"Call-ID: {field('call-id')}\r\nContact: <sip:{self.ext}@127.0.0.1:{self.local}>\r\nMax-Forwards: 70\r\n")
        self.cseq = getattr(self, "cseq", 100) + 1
        via = f"Via: SIP/2.0/UDP 127.0.0.1:{self.local};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
        return target, via + common

    def leave(self):
        if getattr(self, "invite", None) and not self.got_bye:
            target, headers = self._dialog()
            self.sip.sendto(f"BYE {target} SIP/2.0\r\n{headers}CSeq: {self.cseq} BYE\r\nContent-Length: 0\r\n\r\n".encode(),
                            ("127.0.0.1", self.port))
            self.got_bye = True

    def answer_byes(self):
        self.heard(0)

    def reinvite(self, direction):
        """The phone's own hold button: a re-INVITE in the dialog the switch opened, with the SDP
        direction (sendonly = hold, sendrecv = take back); the 200 OK is acknowledged."""
        target, headers = self._dialog()
        sdp = (f"v=0\r\no=- 2 {self.cseq} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
               f"a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n")
        self.sip.sendto((f"INVITE {target} SIP/2.0\r\n{headers}CSeq: {self.cseq} INVITE\r\n"
                         f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}").encode(),
                        ("127.0.0.1", self.port))
        while True:
            data = self.sip.recv(65535).decode()
            if data.startswith("SIP/2.0") and f"{self.cseq} INVITE" in data and int(data.split(" ", 2)[1]) >= 200:
                break
        assert data.startswith("SIP/2.0 200"), data
        ack = headers.split("\r\n", 1)[1]  # a new Via branch for the ACK of a 2xx
        via = f"Via: SIP/2.0/UDP 127.0.0.1:{self.local};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
        self.sip.sendto(f"ACK {target} SIP/2.0\r\n{via}{ack}CSeq: {self.cseq} ACK\r\nContent-Length: 0\r\n\r\n".encode(),
                        ("127.0.0.1", self.port))

    def wait_bye(self, seconds):
        """Answers the BYE the switch sends this phone; False if none came in `seconds`."""
        end = time.time() + seconds
        while time.time() < end and not self.got_bye:
            self.heard(0.1)
        return self.got_bye


def test_a_supervisor_listens_on_his_own_phone_and_hears_the_customer(sip):
    liu, lina = Client(sip.base).login("liuyang", DEMO_PW), Client(sip.base).login("lina", DEMO_PW)
    sup_ext = lina.get("/api/v1/cti/me").json()["agent"]["extension"]
    sup = Uas(sip.sip_port, sup_ext, f"Kefu@{sup_ext}")
    sup.register()
    phone = echoing_phone_ready(sip, liu)
    try:
        uac = Uac(sip.sip_port, "95555")
        uac.call()
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] == "busy", timeout=10)
        r = lina.post("/api/v1/cti/supervisor/monitor", {"agent": "liuyang", "mode": "listen"})
        assert r.status == 200, r.body
        assert sup.answer(), "the supervisor's phone was not called"
        sup.hears_the_switch()
        threading.Thread(target=uac.audio, args=(1.5,), daemon=True).start()  # the customer talks
        loudness = sup.heard(1.5)
        print(f"supervisor hears: RMS {loudness}")
        assert loudness > 1000, loudness
        lina.post("/api/v1/cti/supervisor/stop", {})
        uac.hang_up()
        out, _ = phone.communicate(timeout=30)
        assert phone.returncode == 0, out[-3000:]
    finally:
        if phone.poll() is None:
            phone.kill()
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_audio_flows_both_ways_between_the_caller_and_the_agents_phone(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    phone = echoing_phone_ready(sip, liu)
    try:
        uac = Uac(sip.sip_port, "95555")
        uac.call()
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] == "busy", timeout=10)
        call = liu.get("/api/v1/cti/me").json()["call"]["id"]
        sent, received = uac.audio(2.0)
        # Customer → switch → phone → (echo) → switch → customer: most packets make the round trip.
        print(f"RTP round trip: {received} of {sent} packets came back")
        assert received >= sent * 0.8, (sent, received)
        uac.report(lost=4, jitter=24)  # his phone's RTCP: 4 of ours lost, 3 ms of jitter
        uac.audio(0.3)  # the switch reads his report in the same loop as this audio it echoes
        uac.hang_up()
        out, _ = phone.communicate(timeout=30)
        assert phone.returncode == 0, out[-3000:]
        # 全程录音: a stereo WAV, the customer left and the agent (his echo) right, both heard,
        # as long as the conversation.
        wait_until(lambda: query(sip.db, f"SELECT id FROM cti_call WHERE id = {call} AND disposition = 'completed'"),
                   what=f"call {call} to close as completed")
        r = wait_until(lambda: (lambda x: x if x.status == 200 else None)(liu.get(f"/api/v1/cti/calls/{call}/recording")))
        w = wave.open(io.BytesIO(r.body))
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        seconds = w.getnframes() / 8000
        frames = w.readframes(w.getnframes())
        left, right = audioop.tomono(frames, 2, 1, 0), audioop.tomono(frames, 2, 0, 1)
        print(f"recording: {seconds:.2f} s, rms left {audioop.rms(left, 2)}, right {audioop.rms(right, 2)}")
        assert 1.5 <= seconds <= 4.0, seconds
        assert audioop.rms(left, 2) > 1000 and audioop.rms(right, 2) > 1000
        # 通话质量: every leg's RTP as the switch received it; the customer's with his RTCP report.
        media = wait_until(lambda: (lambda m: m if len(m) >= 2 else None)(liu.get(f"/api/v1/cti/calls/{call}").json()["media"]))
        print(f"media quality: {media}")
        customer = min(media, key=lambda m: m["leg_id"])  # his leg came first
        assert customer["packets_in"] >= sent * 0.95 and customer["lost"] == 0, media
        assert (customer["far_lost"], customer["far_jitter_us"]) == (4, 3000), media
        assert all(m["packets_out"] > 0 for m in media), media
    finally:
        if phone.poll() is None:
            phone.kill()
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_the_ivr_menu_speaks_and_a_key_takes_the_caller_on(sip):
    # 95588 is the demo menu: its prompts are words, spoken by espeak-ng's Mandarin voice into
    # the prompt cache; "0" (人工服务) sends the caller to the general queue.
    uac = Uac(sip.sip_port, "95588")
    uac.call()
    loudness = uac.heard(2.5)
    print(f"menu speech: RMS {loudness}")
    assert loudness > 300, loudness
    assert os.listdir(os.path.join(sip.tmp, "prompts", "tts")), "nothing was rendered"
    uac.key("0")
    call = wait_until(lambda: query(sip.db, "SELECT call_id FROM cti_ivr_path WHERE node = 'menu' AND input = '0'"))
    uac.hang_up()
    assert wait_until(lambda: query(sip.db, f"SELECT disposition FROM cti_call WHERE id = {call[-1][0]} AND ended_at IS NOT NULL"))


def test_a_phone_without_telephone_event_keys_the_menu_in_band(sip):
    # Its SDP offers PCMU alone: the switch listens for the tones in the audio (spandsp).
    before = int(query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])
    uac = Uac(sip.sip_port, "95588")
    uac.call(telephone_event=False)
    uac.heard(1.0)
    uac.tone_key("0")
    call = wait_until(lambda: query(sip.db, "SELECT call_id FROM cti_ivr_path WHERE node = 'menu' AND input = '0'"
                                            f" AND call_id > {before}"))
    uac.hang_up()
    assert wait_until(lambda: query(sip.db, f"SELECT disposition FROM cti_call WHERE id = {call[0][0]} AND ended_at IS NOT NULL"))


def test_baresip_as_the_agents_softphone_answers_and_audio_flows_both_ways(sip):
    """Debian's baresip registers the agent's extension (digest), answers by itself, says a
    440 Hz tone (from a WAV) and dumps what it hears (sndfile): a real softphone at the other end."""
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    ext = liu.get("/api/v1/cti/me").json()["agent"]["extension"]
    home = os.path.join(sip.tmp, "baresip")
    os.makedirs(home, exist_ok=True)
    tone = os.path.join(home, "tone.wav")  # what the softphone's microphone says: 440 Hz
    with wave.open(tone, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"".join(int(8000 * math.sin(2 * math.pi * 440 * i / 8000)).to_bytes(2, "little", signed=True)
                               for i in range(8000 * 10)))
    with open(os.path.join(home, "config"), "w") as f:
        f.write(f"poll_method epoll\nsip_listen 127.0.0.1:{free_udp_port()}\nsip_trans_def udp\n"
                f"audio_player aubridge,kefu\naudio_source aufile,{tone}\naudio_alert aubridge,kefu\n"
                "module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n"
                f"module sndfile.so\nmodule account.so\nmodule menu.so\nsnd_path {home}\n")
    with open(os.path.join(home, "accounts"), "w") as f:
        f.write(f"<sip:{ext}@127.0.0.1:{sip.sip_port};transport=udp>;auth_pass=Kefu@{ext};"
                "answermode=auto;regint=300;audio_codecs=PCMU\n")
    log = open(os.path.join(home, "baresip.log"), "w")
    phone = subprocess.Popen(["baresip", "-f", home], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        # Registered by baresip itself (an earlier test's phone may have left a binding for it).
        wait_until(lambda: "200 OK" in open(os.path.join(home, "baresip.log")).read(), timeout=10)
        assert liu.get("/api/v1/cti/me").json()["agent"]["phone_registered"]
        liu.post("/api/v1/cti/agent/sign-in", {})
        liu.post("/api/v1/cti/agent/ready", {})
        uac = Uac(sip.sip_port, "95555")
        uac.call()
        # His call with this customer (a callback left waiting by an earlier test may come first).
        wait_until(lambda: (liu.get("/api/v1/cti/me").json()["call"] or {}).get("ani") == "13700000001"
                   and liu.get("/api/v1/cti/me").json()["call"]["phase"] == "talking", timeout=20)
        talk = threading.Thread(target=uac.audio, args=(2.0,), daemon=True)  # the customer talks
        talk.start()
        loudness = uac.heard(2.0)  # and hears the softphone's tone
        talk.join()
        uac.hang_up()
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] != "busy", timeout=10)
        # baresip writes what it heard to a WAV, whose header is complete once the call has ended.
        def heard_by_softphone():
            for n in sorted(os.listdir(home), key=lambda n: -os.path.getsize(os.path.join(home, n))):
                if n.endswith("-dec.wav"):  # this call's is the longest
                    try:
                        with wave.open(os.path.join(home, n)) as w:
                            if w.getnframes() >= 8000:
                                return audioop.rms(w.readframes(w.getnframes()), w.getsampwidth()) or None
                    except (wave.Error, EOFError):
                        return None
            return None
        heard = wait_until(heard_by_softphone, what="baresip's finished recording of what it heard")
        print(f"customer hears the softphone: RMS {loudness}; the softphone heard: RMS {heard}")
        assert loudness > 1000 and heard > 1000, (loudness, heard)
    finally:
        phone.terminate()
        phone.wait(timeout=10)
        log.close()
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_phone_that_is_not_answered_is_cancelled_and_the_call_goes_back_to_the_queue(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    ext = liu.get("/api/v1/cti/me").json()["agent"]["extension"]
    phone_port = free_udp_port()
    phone = sipp(sip, "agent_noanswer.xml", "-p", str(phone_port), wait=False, listen=[phone_port])
    sipp(sip, "register.xml", "-s", ext, "-au", ext, "-ap", f"Kefu@{ext}", "-key", "phone_port", str(phone_port),
         f"127.0.0.1:{sip.sip_port}")
    before = query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0]
    liu.post("/api/v1/cti/agent/sign-in", {})
    liu.post("/api/v1/cti/agent/ready", {})
    try:
        uac = Uac(sip.sip_port, "95555")
        uac.call()
        # The ring timeout (10 s here): the phone is cancelled, the agent goes not ready.
        out, _ = phone.communicate(timeout=40)
        assert phone.returncode == 0, out[-3000:]
        me = wait_until(lambda: (lambda m: m if m["state"] == "not_ready" else None)(
            liu.get("/api/v1/cti/me").json()["agent"]), timeout=10)
        assert me["reason"] == "no_answer"
        call = query(sip.db, f"SELECT id FROM cti_call WHERE ani = '13700000001' AND id > {before}")[0][0]
        events = [r[0] for r in query(sip.db, f"SELECT event FROM cti_queue_log WHERE call_id = {call} ORDER BY id")]
        assert events[:2] == ["enter", "ring_noanswer"], events  # and he waits in the queue again
        uac.hang_up()
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_caller_over_tcp_who_hangs_up_in_the_queue_is_an_abandon(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    assert liu.post("/api/v1/cti/agent/sign-in", {}).status == 200  # signed in, not ready
    before = query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0]
    try:
        sipp(sip, "caller.xml", "-t", "t1", "-s", "95555", f"127.0.0.1:{sip.sip_port}")
        rows = wait_until(lambda: query(sip.db, f"SELECT id, disposition FROM cti_call WHERE ani = '13912345678' "
                                                f"AND id > {before} AND ended_at IS NOT NULL"))
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
    # Broken SDP, an address that is none, and no SDP at all.
    status, text = udp_request(sip.sip_port, request("INVITE", sip.sip_port, body="v=0\nnonsense\n", extra="Content-Type: application/sdp\n"))
    assert status == 488, text
    bad_address = g729.replace("18", "0").replace("G729", "PCMU").replace("c=IN IP4 127.0.0.1", "c=IN IP4 999.1.2.x")
    status, text = udp_request(sip.sip_port, request("INVITE", sip.sip_port, body=bad_address, extra="Content-Type: application/sdp\n"))
    assert status == 488 and "bad_connection" in text, text
    status, _ = udp_request(sip.sip_port, request("INVITE", sip.sip_port))
    assert status == 488
    # A body that is not SDP: 415, saying what is accepted (RFC 3261 21.4.13).
    status, text = udp_request(sip.sip_port, request("INVITE", sip.sip_port, body="hello", extra="Content-Type: text/plain\n"))
    assert status == 415 and "accept: application/sdp" in text.lower(), text
    # A Request-URI that is no URI: 400, not silence (21.4.1); one of another scheme: 416.
    for uri in ("not a uri", "sip:", "sip:95555@", "%%%"):
        status, text = udp_request(sip.sip_port, request("INVITE", sip.sip_port).replace(f"INVITE sip:95555@127.0.0.1:{sip.sip_port} ", f"INVITE {uri} ", 1))
        assert status == 400, (uri, text)
    status, text = udp_request(sip.sip_port, request("OPTIONS", sip.sip_port).replace(f"OPTIONS sip:95555@127.0.0.1:{sip.sip_port} ", "OPTIONS garbage ", 1))
    assert status == 416, text
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


def test_a_consultative_transfer_between_two_agents_on_sip_phones(sip):
    # liuyang takes the call on his phone, consults chenjing on hers, then completes: the customer
    # talks to chenjing's phone (it echoes him back), and liuyang's phone gets its BYE.
    liu, chen = Client(sip.base).login("liuyang", DEMO_PW), Client(sip.base).login("chenjing", DEMO_PW)
    liu_phone = echoing_phone_ready(sip, liu)
    uac = Uac(sip.sip_port, "95555")
    uac.call()
    call_of = lambda c: c.get("/api/v1/cti/me").json()["call"] or {}  # noqa: E731
    wait_until(lambda: call_of(liu).get("ani") == "13700000001" and call_of(liu).get("phase") == "talking", timeout=20)
    call = call_of(liu)["id"]
    chen_phone = echoing_phone_ready(sip, chen)  # ready only now: the call was liuyang's
    try:
        r = liu.post("/api/v1/cti/agent/transfer", {"kind": "agent", "target": "chenjing", "consult": True})
        assert r.status == 200, r.body
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] == "busy"
                   and chen.get("/api/v1/cti/me").json()["agent"]["state"] == "busy", timeout=10)
        r = liu.post("/api/v1/cti/agent/complete-transfer", {})
        assert r.status == 200, r.body
        wait_until(lambda: call_of(chen).get("ani") == "13700000001", timeout=10)
        out, _ = liu_phone.communicate(timeout=30)  # his part ended with a BYE
        assert liu_phone.returncode == 0, out[-3000:]
        sent, received = uac.audio(1.5)
        assert received > sent // 2, (sent, received)  # the customer is bridged to chenjing's phone
        uac.hang_up()
        out, _ = chen_phone.communicate(timeout=30)
        assert chen_phone.returncode == 0, out[-3000:]
        wait_until(lambda: query(sip.db, f"SELECT id FROM cti_call WHERE id = {call} AND ended_at IS NOT NULL"),
                   what=f"call {call} to close")
        # His talk ends "transferred"; hers is the consultation, then her own talk with the customer.
        segs = query(sip.db, f"SELECT g.kind, s.username, g.result FROM cti_segment g JOIN staff s ON s.id = g.staff_id "
                             f"WHERE g.call_id = {call} AND g.kind <> 'ring' ORDER BY g.seq")
        assert segs == [("talk", "liuyang", "transferred"), ("consult", "chenjing", "transferred"),
                        ("talk", "chenjing", "completed")], segs
    finally:
        for p in (liu_phone, chen_phone):
            if p.poll() is None:
                p.kill()
        liu.post("/api/v1/cti/agent/sign-out", {})
        chen.post("/api/v1/cti/agent/sign-out", {})


def silent_phone_ready(sip, agent):
    """The agent's phone in Python (it says nothing until told to), registered, and the agent
    signed in and ready."""
    ext = agent.get("/api/v1/cti/me").json()["agent"]["extension"]
    phone = Uas(sip.sip_port, ext, f"Kefu@{ext}")
    phone.register()
    agent.post("/api/v1/cti/agent/sign-in", {})
    agent.post("/api/v1/cti/agent/ready", {})
    return phone


def customer_talks_to(sip, agent):
    """A customer's call to the general queue, answered by the agent's silent Python phone."""
    phone = silent_phone_ready(sip, agent)
    uac = Uac(sip.sip_port, "95555")
    uac.call()
    assert phone.answer(), "the agent's phone was not called"
    wait_until(lambda: (agent.get("/api/v1/cti/me").json()["call"] or {}).get("phase") == "talking", timeout=10)
    return phone, uac


def hears(listener, talker, timeout=5):
    """Waits until `listener` hears `talker` (RMS over 1000 in 0.3 s of tone): the switch has
    applied a change of who hears whom."""
    wait_until(lambda: heard_while(talker, [listener], 0.3)[0] > 1000, timeout=timeout, step=0,
               what="one phone to hear the other through the mixer")


def heard_while(talker, listeners, seconds=1.5, hz=440):
    """How loud each listener hears the switch while `talker` says a tone (the others are silent)."""
    loudness = {}
    threads = [threading.Thread(target=lambda p=p: loudness.__setitem__(id(p), p.heard(seconds)), daemon=True)
               for p in listeners]
    for t in threads:
        t.start()
    talker.talk(seconds, hz)
    for t in threads:
        t.join()
    return [loudness[id(p)] for p in listeners]


def call_segments(sip, call):
    """The segments of `call` (this test's own, by id), once the call has closed."""
    wait_until(lambda: query(sip.db, f"SELECT id FROM cti_call WHERE id = {call} AND ended_at IS NOT NULL"),
               what=f"call {call} to close")
    return query(sip.db, f"SELECT g.kind, COALESCE(s.username, '-'), COALESCE(g.result, '-'), COALESCE(g.party, '-') "
                         f"FROM cti_segment g LEFT JOIN staff s ON s.id = g.staff_id WHERE g.call_id = {call} ORDER BY g.seq")


def test_a_supervisor_whispers_then_barges_in_then_takes_over_on_real_phones(sip):
    # Every phone is a Python one that is silent unless it talks, so what each hears shows who
    # hears whom in the switch's mixer.
    liu, lina = Client(sip.base).login("liuyang", DEMO_PW), Client(sip.base).login("lina", DEMO_PW)
    before = query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0]
    agent = silent_phone_ready(sip, liu)
    sup_ext = lina.get("/api/v1/cti/me").json()["agent"]["extension"]
    sup = Uas(sip.sip_port, sup_ext, f"Kefu@{sup_ext}")
    sup.register()
    try:
        uac = Uac(sip.sip_port, "95555")
        uac.call()
        assert agent.answer(), "the agent's phone was not called"
        wait_until(lambda: (liu.get("/api/v1/cti/me").json()["call"] or {}).get("phase") == "talking", timeout=10)
        call_id = liu.get("/api/v1/cti/me").json()["call"]["id"]
        # 密语 (whisper): the agent hears the supervisor, the customer does not; he hears both.
        r = lina.post("/api/v1/cti/supervisor/monitor", {"agent": "liuyang", "mode": "whisper"})
        assert r.status == 200, r.body
        assert sup.answer(), "the supervisor's phone was not called"
        sup.hears_the_switch()
        agent.hears_the_switch()
        agent_hears, customer_hears = heard_while(sup, [agent, uac])
        print(f"whisper: agent hears {agent_hears}, customer hears {customer_hears}")
        assert agent_hears > 1000 and customer_hears < 100, (agent_hears, customer_hears)
        (sup_hears,) = heard_while(uac, [sup])
        assert sup_hears > 1000, sup_hears
        # 强插 (barge): the same leg, now everyone hears everyone.
        r = lina.post("/api/v1/cti/supervisor/monitor", {"agent": "liuyang", "mode": "barge"})
        assert r.status == 200, r.body
        hears(uac, sup)  # the mixer has taken the new mode
        agent_hears, customer_hears = heard_while(sup, [agent, uac])
        print(f"barge: agent hears {agent_hears}, customer hears {customer_hears}")
        assert agent_hears > 1000 and customer_hears > 1000, (agent_hears, customer_hears)
        agent_hears, sup_hears = heard_while(uac, [agent, sup])
        customer_hears, sup_hears2 = heard_while(agent, [uac, sup])
        assert min(agent_hears, sup_hears, customer_hears, sup_hears2) > 1000, (agent_hears, sup_hears, customer_hears, sup_hears2)
        # 强制接管 (take over): the supervisor keeps the customer, the agent's phone is hung up.
        r = lina.post("/api/v1/cti/supervisor/take-over", {"agent": "liuyang"})
        assert r.status == 200, r.body
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] != "busy", timeout=10)
        assert agent.wait_bye(5), "no BYE came"
        assert heard_while(sup, [uac])[0] > 1000
        uac.hang_up()
        assert sup.wait_bye(5)
        segs = call_segments(sip, call_id)
        # Each mode the supervisor used is a segment of its own; after the takeover, she talks.
        assert [g for g in segs if g[1] == "lina"] == [("monitor", "lina", "mode_changed", "whisper"),
                                                        ("monitor", "lina", "taken_over", "barge"),
                                                        ("talk", "lina", "completed", "take_over")], segs
        assert ("talk", "liuyang", "taken_over") in [g[:3] for g in segs], segs
        assert query(sip.db, f"SELECT COUNT(*) FROM cti_call WHERE ani = '13700000001' AND id > {before} AND ended_at IS NULL")[0][0] == "0"
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_the_agents_phone_holds_the_customer_with_its_own_hold_button(sip):
    # A re-INVITE with a=sendonly from the agent's phone: the core holds the customer as the desk
    # would (music on hold, the desk shows held); a=sendrecv takes him back.
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    try:
        phone, uac = customer_talks_to(sip, liu)
        call = liu.get("/api/v1/cti/me").json()["call"]["id"]
        assert uac.heard(1.0) < 100  # the agent says nothing: silence
        phone.reinvite("sendonly")
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["held"], timeout=5)
        loudness = uac.heard(1.5)
        print(f"held by the phone: the customer hears RMS {loudness}")
        assert loudness > 300, loudness  # music on hold
        phone.reinvite("sendrecv")
        wait_until(lambda: not liu.get("/api/v1/cti/me").json()["agent"]["held"], timeout=5)
        hears(uac, phone)  # talking again
        uac.hang_up()
        assert phone.wait_bye(5)
        events = wait_until(lambda: query(sip.db, f"SELECT type FROM cti_call_event WHERE call_id = {call} ORDER BY id")
                            if query(sip.db, f"SELECT 1 FROM cti_call WHERE id = {call} AND ended_at IS NOT NULL") else None,
                            what=f"call {call} to close")
        assert ("held",) in events and ("retrieved",) in events, events
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_the_desks_answer_button_answers_the_ringing_phone(sip):
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    phone = silent_phone_ready(sip, liu)
    try:
        uac = Uac(sip.sip_port, "95555")
        uac.call()
        answering = threading.Thread(target=lambda: setattr(phone, "answered", phone.ring_until_told_to_answer()), daemon=True)
        answering.start()
        wait_until(lambda: getattr(phone, "ringing", False), timeout=10, what="the agent's phone to ring")
        assert liu.post("/api/v1/cti/agent/answer", {}).status == 200
        answering.join(10)
        assert getattr(phone, "answered", False), "the phone was not asked to answer"
        wait_until(lambda: liu.get("/api/v1/cti/me").json()["agent"]["state"] == "busy", timeout=5)
        assert heard_while(phone, [uac])[0] > 1000  # they talk
        uac.hang_up()
        assert phone.wait_bye(5)
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_the_desk_keys_digits_to_the_far_end_as_rfc4733_events(sip):
    # 二次拨号: the agent keys into the far end's menu from the desk; the far end gets the events.
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    try:
        phone, uac = customer_talks_to(sip, liu)
        r = liu.post("/api/v1/cti/agent/dtmf", {"digits": "12x"})
        assert r.status == 422 and r.error["field"] == "digits", r.body
        assert liu.post("/api/v1/cti/agent/dtmf", {"digits": "905#"}).status == 200
        keys = uac.keys_heard(1.5)
        print(f"the far end got the keys {keys!r}")
        assert keys == "905#", keys
        uac.hang_up()
        assert phone.wait_bye(5)
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_three_way_conference_between_the_customer_and_two_agents_on_real_phones(sip):
    # liuyang consults chenjing, then joins the three (三方通话): each hears the other two.
    liu, chen = Client(sip.base).login("liuyang", DEMO_PW), Client(sip.base).login("chenjing", DEMO_PW)
    first = silent_phone_ready(sip, liu)
    uac = Uac(sip.sip_port, "95555")
    uac.call()
    assert first.answer(), "liuyang's phone was not called"
    call_of = lambda c: c.get("/api/v1/cti/me").json()["call"] or {}  # noqa: E731
    wait_until(lambda: call_of(liu).get("phase") == "talking", timeout=10)
    call_id = call_of(liu)["id"]
    second = silent_phone_ready(sip, chen)  # ready only now: the call was liuyang's
    try:
        r = liu.post("/api/v1/cti/agent/transfer", {"kind": "agent", "target": "chenjing", "consult": True})
        assert r.status == 200, r.body
        assert second.answer(), "chenjing's phone was not called"
        wait_until(lambda: chen.get("/api/v1/cti/me").json()["agent"]["state"] == "busy", timeout=10)
        hears(first, second)  # the agents talk: were the customer not held, he would hear her now
        # Consulting: the customer is on hold and does not hear the agents talk about him.
        heard_while(second, [uac], hz=1700)
        print(f"on hold, the customer hears: 1700 Hz share {uac.tone_share(1700):.3f}")
        assert uac.tone_share(1700) < 0.05  # music on hold, not her tone
        r = liu.post("/api/v1/cti/agent/conference", {})
        assert r.status == 200, r.body
        hears(uac, second)  # the mixer has joined the three
        heard = {}
        for name, talker, listeners in (("customer", uac, [first, second]), ("liuyang", first, [uac, second]),
                                        ("chenjing", second, [uac, first])):
            heard[name] = heard_while(talker, listeners)
        print(f"conference, what the other two hear: {heard}")
        assert min(min(v) for v in heard.values()) > 1000, heard
        # liuyang leaves; the customer and chenjing stay together.
        assert liu.post("/api/v1/cti/agent/hang-up", {}).status == 200
        assert first.wait_bye(5), "no BYE came"
        (customer_hears,) = heard_while(second, [uac])
        assert customer_hears > 1000, customer_hears
        uac.hang_up()
        assert second.wait_bye(5), "no BYE came"
        segs = call_segments(sip, call_id)
        print(segs)
        assert [g[:3] for g in segs if g[0] in ("talk", "consult")] == [
            ("talk", "liuyang", "agent_hung_up"), ("consult", "chenjing", "conferenced"), ("talk", "chenjing", "completed")], segs
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})
        chen.post("/api/v1/cti/agent/sign-out", {})


def caller_waits_in_the_queue(sip, agent, extra=""):
    """The agent signed in but not ready, so a caller to the general queue waits there: the
    caller's UA, and the last call id before his."""
    assert agent.post("/api/v1/cti/agent/sign-in", {}).status == 200
    before = query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0]
    uac = Uac(sip.sip_port, "95555")
    uac.call(extra=extra)
    return uac, before


def test_a_caller_who_stops_refreshing_his_session_is_hung_up_and_leaves_the_queue(sip):
    # RFC 4028 for real: a 90 s session (the least allowed) that the caller should refresh and
    # never does, as when his phone loses its network. The switch ends it before it expires
    # (at 90 − 30 s) rather than keeping a caller nobody hears in the queue.
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    try:
        started = time.time()
        uac, before = caller_waits_in_the_queue(sip, liu, "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n")
        assert uac.wait_bye(100), "the switch kept a call whose session expired"
        waited = time.time() - started
        print(f"BYE after {waited:.1f} s")
        assert 55 <= waited <= 95, waited
        rows = wait_until(lambda: query(sip.db, f"SELECT disposition FROM cti_call WHERE ani = '13700000001' "
                                                f"AND id > {before} AND ended_at IS NOT NULL"))
        assert rows == [("abandoned",)], rows
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def gauges(sip):
    text = urllib.request.urlopen(sip.base + "/metrics", timeout=10).read().decode()
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines()
            if l.startswith(("kefu_sip_legs ", "kefu_media_legs ", "kefu_cti_live_calls "))}


def test_random_hang_ups_and_desk_commands_leave_no_call_agent_or_media_leg_behind(sip):
    """Callers to the queue and the menu who talk, key and hang up at random moments, while the
    agents' phones answer at once and their desks hold, retrieve, transfer back to the queue and
    hang up at random: afterwards no call is left live, both agents are free, and every SIP and
    RTP leg is closed (the counts in /metrics come back down)."""
    seed = int(os.environ.get("KEFU_TEST_SEED", time.time()))
    print(f"seed {seed} (KEFU_TEST_SEED to replay)")
    rnd = random.Random(seed)
    agents = [Client(sip.base).login(u, DEMO_PW) for u in ("liuyang", "chenjing")]
    phone_port, echo_port = free_udp_port(), free_udp_port()
    phones = subprocess.Popen(["sipp", "-sf", os.path.join(SCENARIOS, "..", "..", "bench", "sip", "phones.xml"),
                               "-p", str(phone_port), "-mp", str(echo_port), "-rtp_echo", "-i", "127.0.0.1",
                               "-nostdin", "-timeout", "120s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=sip.tmp)
    STARTED["procs"].append(phones)
    listening(phones, phone_port, echo_port)
    try:
        for a in agents:  # both extensions ring the one SIPp, which answers every call at once
            ext = a.get("/api/v1/cti/me").json()["agent"]["extension"]
            sipp(sip, "register.xml", "-s", ext, "-au", ext, "-ap", f"Kefu@{ext}", "-key", "phone_port",
                 str(phone_port), f"127.0.0.1:{sip.sip_port}")
            a.post("/api/v1/cti/agent/sign-in", {})
            a.post("/api/v1/cti/agent/ready", {})
        before = gauges(sip)
        first = int(query(sip.db, "SELECT COALESCE(MAX(id), 0) FROM cti_call")[0][0])

        def caller(r):
            time.sleep(r.uniform(0, 3))
            number = r.choice(["95555", "95588"])
            uac = Uac(sip.sip_port, number)
            uac.call()
            end = time.time() + r.uniform(0, 4)
            while time.time() < end and not uac.got_bye:
                if number == "95588" and r.random() < 0.3:
                    uac.key(r.choice("0259"))  # an agent, the fund line, a message, nonsense
                uac.audio(0.2)
            if not uac.got_bye:
                uac.hang_up()

        def desks(r, until):
            while time.time() < until:
                a = r.choice(agents)
                action = r.choice(["hold", "retrieve", "hang-up", "transfer", "mute"])
                body = {"kind": "queue", "target": "general"} if action == "transfer" else \
                       {"on": r.random() < 0.5} if action == "mute" else {}
                a.post(f"/api/v1/cti/agent/{action}", body)  # refused when it does not apply
                time.sleep(r.uniform(0.05, 0.4))

        threads = [threading.Thread(target=caller, args=(random.Random(rnd.random()),), daemon=True) for _ in range(24)]
        threads.append(threading.Thread(target=desks, args=(random.Random(rnd.random()), time.time() + 8), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        states = lambda: [a.get("/api/v1/cti/me").json()["agent"]["state"] for a in agents]  # noqa: E731
        wait_until(lambda: all(s in ("ready", "not_ready", "wrap_up") for s in states()), timeout=15)
        after = wait_until(lambda: (lambda g: g if g["kefu_media_legs"] <= before["kefu_media_legs"]
                                    and g["kefu_sip_legs"] <= before["kefu_sip_legs"] else None)(gauges(sip)), timeout=15)
        print(f"before {before}, after {after}, agents {states()}")
        live = [c for c in Client(sip.base).login("lina", DEMO_PW).get("/api/v1/cti/live").json()["calls"]
                if c["ani"] == "13700000001"]
        assert live == [], live
        ended = query(sip.db, "SELECT COUNT(*) FROM cti_call WHERE ani = '13700000001' AND ended_at IS NULL")
        assert ended[0][0] == "0", ended
        # It was a busy hotline: calls answered by the agents, some moved on by the desks.
        talks = query(sip.db, f"SELECT g.result, COUNT(*) FROM cti_segment g WHERE g.call_id > {first} "
                              "AND g.kind = 'talk' GROUP BY g.result")
        print(f"talk segments by how they ended: {talks}")
        assert sum(int(n) for _, n in talks) >= 1, talks
    finally:
        phones.kill()
        for a in agents:
            a.post("/api/v1/cti/agent/sign-out", {})


def test_a_waiting_caller_presses_a_key_over_rfc4733_and_is_called_back(own_sip):
    # On a switch of its own: the callback it asks for waits in the queue for hours.
    sip = own_sip
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    try:
        uac, before = caller_waits_in_the_queue(sip, liu)
        loudness = uac.heard(1.5)  # waiting in the queue: music on hold
        print(f"music on hold: RMS {loudness}")
        assert loudness > 300, loudness
        uac.key("1")  # the queue's callback key
        assert uac.wait_bye(5), "the switch did not end the call after the callback key"
        rows = wait_until(lambda: query(sip.db, f"SELECT disposition FROM cti_call WHERE ani = '13700000001' "
                                                f"AND id > {before} AND ended_at IS NOT NULL"))
        assert rows == [("callback",)], rows
    finally:
        liu.post("/api/v1/cti/agent/sign-out", {})


def test_a_call_still_up_when_kefud_stops_does_not_hold_the_stop(own_sip):
    """Its caller never answers the BYE kefud sends as it stops: stopping must not wait for 32 s
    of retransmissions."""
    sip = own_sip
    liu = Client(sip.base).login("liuyang", DEMO_PW)
    assert liu.post("/api/v1/cti/agent/sign-in", {}).status == 200
    uac = Uac(sip.sip_port, "95555")
    uac.call()
    lina = Client(sip.base).login("lina", DEMO_PW)
    wait_until(lambda: any(c["ani"] == "13700000001" for c in lina.get("/api/v1/cti/live").json()["calls"]),
               what="the caller waiting in the queue")
    started = time.time()
    sip.stop()
    assert time.time() - started < 10, time.time() - started
    uac.got_bye = True  # it never answered; nothing for the clean-up to hang up
