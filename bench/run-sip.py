#!/usr/bin/python3
"""SIP bench (issue 6): SIPp callers on loopback through kefud's softswitch to SIPp agent phones,
with 20 ms PCMU both ways (the callers stream a tone, the phones echo what they hear) and full-call
recording on. Measures, in one run:

  rate        the highest call rate with < 0.1 % failed calls (each call held --hold-s seconds)
  concurrent  --concurrent recorded calls held --hold-long-s seconds: failures, CPU per call, and a
              sample of the recordings checked (stereo, length, both channels heard)
  latency     call setup (INVITE → 200 OK) p50 / p99 from SIPp's response times
  baseline    Kamailio as a stateless proxy in front of the same phones, the same SIPp scenario
              without media: the signalling ceiling of this machine

  bench/run-sip.py [--agents 1000] [--rates 50,100,150] [--concurrent 500] [--hold-long-s 60]

The agents (staff, extension, SIP secret, a session) are written into the demo database before
kefud starts; the phones register every extension with digest authentication, then each agent
signs in and goes ready over the REST API, as a desk would.
"""
import argparse
import csv
import glob
import hashlib
import json
import math
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import wave
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import audioop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("KEFU_BUILD", os.path.join(ROOT, "build"))
SCENARIOS = os.path.join(ROOT, "bench", "sip")
TICK = os.sysconf("SC_CLK_TCK")


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(math.ceil(p / 100 * len(v))) - 1)]


def api(base, token, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body or {}).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def seed_agents(db, n, tmp):
    """n agents on extensions 90000…, each with a SIP secret and a session token, like liuyang."""
    con = sqlite3.connect(db)
    liu = con.execute("SELECT id, org_id, position_id, password_hash, password_changed_at FROM staff "
                      "WHERE username = 'liuyang'").fetchone()
    roles = [r[0] for r in con.execute("SELECT role_id FROM staff_role WHERE staff_id = ?", (liu[0],))]
    now = int(time.time() * 1000)
    for i in range(n):
        ext = str(90000 + i)
        cur = con.execute(
            "INSERT INTO staff (created_at, updated_at, username, name, org_id, position_id, level, status, "
            "extension, password_hash, password_changed_at, must_change_password) "
            "VALUES (?, ?, ?, ?, ?, ?, 'L1', 'active', ?, ?, ?, 0)",
            (now, now, f"bench{ext}", f"压测座席{ext}", liu[1], liu[2], ext, liu[3], liu[4]))
        sid = cur.lastrowid
        for r in roles:
            con.execute("INSERT INTO staff_role (staff_id, role_id, granted_at, granted_by) VALUES (?, ?, 0, 0)",
                        (sid, r))
        con.execute("INSERT INTO cti_agent (created_at, updated_at, staff_id, skills, chat_capacity, email_capacity, "
                    "voice_with_media, sip_secret, enabled) VALUES (?, ?, ?, '', 0, 0, 0, ?, 1)",
                    (now, now, sid, f"Bench-{ext}"))
        con.execute("INSERT INTO auth_session (token_hash, staff_id, created_at, expires_at, client_ip, user_agent) "
                    "VALUES (?, ?, ?, ?, '127.0.0.1', 'bench')",
                    (hashlib.sha256(f"bench-token-{ext}".encode()).hexdigest(), sid, now, now + 86400000))
    con.commit()
    con.close()
    return [str(90000 + i) for i in range(n)]


def register_all(sip_port, phone_port, exts):
    """Every extension registers (digest, qop=auth) with the phones SIPp as its contact. SIPp 3.6.1
    cannot take a per-call digest user from an injection file, so this is done here."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    local = s.getsockname()[1]
    uri = f"sip:127.0.0.1:{sip_port}"
    md5 = lambda x: hashlib.md5(x.encode()).hexdigest()  # noqa: E731
    ok = 0
    for ext in exts:
        call_id, cseq = f"reg-{ext}-{time.time()}", 1

        def send(auth=""):
            s.sendto((f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{call_id}{cseq}\r\n"
                      f"From: <sip:{ext}@127.0.0.1>;tag=b{ext}\r\nTo: <sip:{ext}@127.0.0.1>\r\n"
                      f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                      f"Contact: <sip:{ext}@127.0.0.1:{phone_port}>\r\nExpires: 3600\r\n{auth}"
                      "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", sip_port))
            while True:
                msg = s.recv(65535).decode(errors="replace")
                if f"CSeq: {cseq} REGISTER" in msg and int(msg.split(" ", 2)[1]) >= 200:
                    return msg

        challenge = send()
        if " 401 " not in challenge.split("\r\n", 1)[0]:
            continue
        hdr = next(h for h in challenge.split("\r\n") if h.lower().startswith("www-authenticate:"))
        params = dict(kv.strip().split("=", 1) for kv in hdr.split(" ", 2)[2].split(","))
        realm, nonce = params["realm"].strip('"'), params["nonce"].strip('"')
        cnonce, nc = hashlib.md5(ext.encode()).hexdigest()[:8], "00000001"
        response = md5(f"{md5(f'{ext}:{realm}:Bench-{ext}')}:{nonce}:{nc}:{cnonce}:auth:{md5('REGISTER:' + uri)}")
        cseq = 2
        answer = send(f'Authorization: Digest username="{ext}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                      f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"\r\n')
        ok += answer.startswith("SIP/2.0 200")
    s.close()
    return ok


def tone(path, seconds=10):
    """A 440 Hz tone at -12 dBFS as raw PCMU: what each caller says."""
    pcm = b"".join(int(8000 * math.sin(2 * math.pi * 440 * i / 8000)).to_bytes(2, "little", signed=True)
                   for i in range(8000 * seconds))
    with open(path, "wb") as f:
        f.write(audioop.lin2ulaw(pcm, 2))


class Sipp:
    """One SIPp run in a directory of its own (its stat and rtt files land there)."""

    def __init__(self, tmp, name, args, wait=True, timeout=900):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        if os.path.exists(os.path.join(tmp, "tone.ulaw")):
            shutil.copy(os.path.join(tmp, "tone.ulaw"), self.dir)
        # Each SIPp needs its own control port (8888 otherwise, and the second one fails to bind).
        self.p = subprocess.Popen(["sipp", "-nostdin", "-i", "127.0.0.1", "-cp", str(free_port()), *args], cwd=self.dir,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if wait:
            self.wait(timeout)

    def wait(self, timeout=900):
        _, err = self.p.communicate(timeout=timeout)
        self.rc = self.p.returncode
        self.err = err

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()

    def stats(self):
        files = glob.glob(os.path.join(self.dir, "*_.csv"))
        if not files:
            return {}
        rows = list(csv.reader(open(files[0]), delimiter=";"))
        return dict(zip(rows[0], rows[-1]))

    def setup_ms(self):
        out = []
        for f in glob.glob(os.path.join(self.dir, "*_rtt.csv")):
            for row in list(csv.reader(open(f), delimiter=";"))[1:]:
                if len(row) >= 3 and row[2] == "setup":
                    out.append(float(row[1]))
        return out


def callers(tmp, name, target, rate, calls, limit, hold_ms, media=True):
    scenario = "caller.xml" if media else "caller_nomedia.xml"
    return Sipp(tmp, name, ["-sf", os.path.join(SCENARIOS, scenario), "-s", "95555", target, "-p", str(free_port()),
                            "-r", str(rate), "-m", str(calls), "-l", str(limit), "-d", str(hold_ms),
                            "-mp", "30000",
                            "-trace_stat", "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
                            "-timeout", f"{int(calls / rate + hold_ms / 1000 + 60)}s", "-recv_timeout", "20000",
                            "-max_socket", "5000"], wait=False)


def queue_to_agent_ms(db, since):
    """From the CDRs: how long answered callers waited from the switch answering them to an agent's
    phone answering (queue, offer, the INVITE to the phone and its 200) — the ACD's share of setup."""
    con = sqlite3.connect(db)
    rows = [r[0] for r in con.execute("SELECT ended_at - started_at FROM cti_segment WHERE kind = 'queue' AND "
                                      "result = 'answered' AND started_at >= ?", (int(since * 1000),))]
    con.close()
    return {"answered": len(rows), "p50_ms": pct(rows, 50), "p99_ms": pct(rows, 99)}


def summary(run, wall, cpu=None):
    st = run.stats()
    ok, failed = int(st.get("SuccessfulCall(C)", 0)), int(st.get("FailedCall(C)", 0))
    setup = run.setup_ms()
    line = {"calls": ok + failed, "ok": ok, "failed": failed,
            "failed_pct": round(100 * failed / max(1, ok + failed), 3),
            "setup_p50_ms": round(pct(setup, 50), 1), "setup_p99_ms": round(pct(setup, 99), 1),
            "wall_s": round(wall, 1)}
    if cpu is not None:
        line["kefud_cpu_pct"] = round(100 * cpu / wall, 1)
    return line


def check_recordings(db, rec_dir, since, expect_s, sample=8):
    """A sample of the recordings (stereo, length, both channels heard), each with what the switch
    received on its legs (cti_leg_media): a short recording with few packets in means the caller
    sent less, not that Kefu lost what came."""
    files = [f for f in glob.glob(os.path.join(rec_dir, "**", "*.wav"), recursive=True) if os.path.getmtime(f) >= since]
    good, checked = 0, []
    con = sqlite3.connect(db)
    for f in sorted(files)[:sample]:
        with wave.open(f) as w:
            frames = w.readframes(w.getnframes())
            dur = w.getnframes() / w.getframerate()
            ok = w.getnchannels() == 2 and w.getframerate() == 8000
        left, right = audioop.tomono(frames, 2, 1, 0), audioop.tomono(frames, 2, 0, 1)
        rl, rr = audioop.rms(left, 2), audioop.rms(right, 2)
        ok = ok and abs(dur - expect_s) < 3 and rl > 500 and rr > 500
        good += ok
        call = os.path.splitext(os.path.basename(f))[0]
        legs = con.execute("SELECT packets_in, lost, packets_out FROM cti_leg_media WHERE call_id = ? ORDER BY leg_id",
                           (int(call) if call.isdigit() else -1,)).fetchall()
        checked.append({"seconds": round(dur, 1), "rms_left": rl, "rms_right": rr, "ok": ok,
                        "legs_in_lost_out": [list(x) for x in legs]})
    con.close()
    return {"files": len(files), "sampled": len(checked), "good": good, "sample": checked}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--rates", default="50,100,150")
    ap.add_argument("--rate-seconds", type=int, default=15)
    ap.add_argument("--hold-s", type=float, default=4)
    ap.add_argument("--concurrent", type=int, default=500)
    ap.add_argument("--hold-long-s", type=int, default=60)
    ap.add_argument("--kamailio-rates", default="100,200,400,800")
    ap.add_argument("--skip-kamailio", action="store_true")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="kefu-bench-sip-")
    procs = []
    results = {"machine": f"{os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d")}
    try:
        db = os.path.join(tmp, "k.db")
        env = dict(os.environ, KEFU_DB=db, KEFU_ADMIN_PASSWORD="Bench@2026x")
        subprocess.run([os.path.join(BUILD, "src", "kefuctl"), "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([os.path.join(BUILD, "src", "kefuctl"), "demo"], env=env, check=True, capture_output=True)
        exts = seed_agents(db, a.agents, tmp)
        tone(os.path.join(tmp, "tone.ulaw"))
        http, sip = free_port(socket.SOCK_STREAM), free_port()
        rec_dir = os.path.join(tmp, "recordings")
        env.update(KEFU_LISTEN=f"127.0.0.1:{http}", KEFU_CTI_SIP_LISTEN=f"127.0.0.1:{sip}",
                   KEFU_CTI_RECORDING_DIR=rec_dir, KEFU_CTI_PROMPT_DIR=os.path.join(tmp, "prompts"),
                   KEFU_CTI_RING_TIMEOUT_S="10", KEFU_CTI_WRAP_UP_S="1", KEFU_ACCESS_LOG="false",
                   KEFU_LOG_LEVEL="warn", KEFU_WEB_ROOT=os.path.join(tmp, "web"))
        kefud = subprocess.Popen([os.path.join(BUILD, "src", "kefud")], env=env, cwd=tmp,
                                 stdout=open(os.path.join(tmp, "kefud.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(kefud)
        base = f"http://127.0.0.1:{http}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        target = f"127.0.0.1:{sip}"

        phone_port = free_port()
        phones = Sipp(tmp, "phones", ["-sf", os.path.join(SCENARIOS, "phones.xml"), "-p", str(phone_port),
                                      "-rtp_echo", "-mp", "46000", "-max_socket", "5000"], wait=False)
        procs.append(phones.p)
        t0 = time.time()
        ok = register_all(sip, phone_port, exts)
        results["register"] = {"extensions": a.agents, "ok": ok, "failed": a.agents - ok,
                               "seconds": round(time.time() - t0, 1)}

        def ready(ext):
            tok = f"bench-token-{ext}"
            api(base, tok, "POST", "/api/v1/cti/agent/sign-in")
            api(base, tok, "POST", "/api/v1/cti/agent/ready")

        threads = [threading.Thread(target=lambda part=exts[i::8]: [ready(e) for e in part]) for i in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(json.dumps({"register": results["register"]}, ensure_ascii=False), flush=True)

        # Call rate: steps up; each call held hold_s, agents back to ready after 1 s of wrap-up.
        results["rate"] = []
        for rate in [int(x) for x in a.rates.split(",")]:
            calls = rate * a.rate_seconds
            c0, t0 = cpu_seconds(kefud.pid), time.time()
            run = callers(tmp, f"rate-{rate}", target, rate, calls, calls, int(a.hold_s * 1000))
            run.wait()
            s = summary(run, time.time() - t0, cpu_seconds(kefud.pid) - c0)
            s["rate"] = rate
            s["to_agent"] = queue_to_agent_ms(db, t0)
            results["rate"].append(s)
            print(json.dumps({"rate": s}), flush=True)
            time.sleep(3)  # the last wrap-ups end

        # Concurrent recorded calls: ramp at 25 calls/s to `concurrent`, hold, measure the plateau.
        n = a.concurrent
        since = time.time()
        run = callers(tmp, "concurrent", target, 25, n, n, a.hold_long_s * 1000)
        ramp = n / 25
        time.sleep(ramp + 3)
        c0, t0 = cpu_seconds(kefud.pid), time.time()
        admin = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/auth/login", data=json.dumps({"username": "admin", "password": "Bench@2026x"}).encode(),
            headers={"Content-Type": "application/json"}), timeout=30).read())["token"]
        live = api(base, admin, "GET", "/api/v1/cti/live")
        talking = sum(1 for c in live.get("calls", []) if c.get("phase") in ("talk", "talking", "connected"))
        plateau = max(5, a.hold_long_s - ramp - 10)
        time.sleep(plateau)
        plateau_cpu = cpu_seconds(kefud.pid) - c0
        plateau_wall = time.time() - t0
        run.wait()
        s = summary(run, time.time() - since)
        s.update(concurrent=n, live_calls=len(live.get("calls", [])), talking=talking,
                 plateau_cpu_pct=round(100 * plateau_cpu / plateau_wall, 1),
                 cpu_ms_per_call_second=round(1000 * plateau_cpu / plateau_wall / n, 3))
        time.sleep(2)
        s["to_agent"] = queue_to_agent_ms(db, since)
        s["recordings"] = check_recordings(db, rec_dir, since, a.hold_long_s)
        results["concurrent"] = s
        print(json.dumps({"concurrent": s}, ensure_ascii=False), flush=True)
        phones.stop()
        kefud.terminate()
        kefud.wait(30)

        # The signalling ceiling: Kamailio forwarding statelessly to the same phones.
        if not a.skip_kamailio:
            kport, uas = free_port(), free_port()
            cfg = os.path.join(tmp, "kamailio.cfg")
            with open(cfg, "w") as f:
                f.write(f"#!KAMAILIO\ndebug=0\nlog_stderror=yes\nchildren=2\nlisten=udp:127.0.0.1:{kport}\n"
                        "mpath=\"/usr/lib/x86_64-linux-gnu/kamailio/modules/\"\n"
                        f"request_route {{\n  forward(\"127.0.0.1\", {uas});\n  exit;\n}}\n")
            kam = subprocess.Popen(["kamailio", "-f", cfg, "-DD", "-E", "-m", "128", "-M", "16"],
                                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "kamailio.log"), "w"))
            procs.append(kam)
            time.sleep(1.5)
            uas_run = Sipp(tmp, "kam-phones", ["-sf", os.path.join(SCENARIOS, "phones.xml"), "-p", str(uas),
                                               "-mp", "47000", "-max_socket", "5000"], wait=False)
            procs.append(uas_run.p)
            results["kamailio"] = []
            for rate in [int(x) for x in a.kamailio_rates.split(",")]:
                calls = rate * a.rate_seconds
                c0, t0 = cpu_seconds(kam.pid), time.time()
                run = callers(tmp, f"kam-{rate}", f"127.0.0.1:{kport}", rate, calls, calls,
                              int(a.hold_s * 1000), media=False)
                run.wait()
                s = summary(run, time.time() - t0)
                s["rate"] = rate
                results["kamailio"].append(s)
                print(json.dumps({"kamailio": s}), flush=True)
            uas_run.stop()
            kam.terminate()
        print(json.dumps(results, ensure_ascii=False, indent=1))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        if os.environ.get("KEFU_BENCH_KEEP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
