"""The test SMSC (tests/api/smsc.mjs: node-smpp's server) as a fixture: started on free ports,
steered and read over its control port."""
import json
import os
import subprocess
import tempfile
import time
import urllib.request

from conftest import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_ID, PASSWORD = "kefu", "Sms@2026"


class Smsc:
    def __init__(self):
        self.port, self.control = free_port(), free_port()
        self.proc = None

    def start(self):
        self.log = open(os.path.join(tempfile.mkdtemp(prefix="kefu-smsc-"), "smsc.log"), "w")
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "smsc.mjs"), "--port", str(self.port), "--control",
                                      str(self.control), "--system-id", SYSTEM_ID, "--password", PASSWORD],
                                     stdout=self.log, stderr=self.log)
        end = time.time() + 30
        while time.time() < end:
            try:
                self.state()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("the test SMSC exited at start")
                time.sleep(0.05)
        raise RuntimeError("the test SMSC did not answer on its control port in 30 s")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
            self.log.close()

    def _call(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.control}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"{}")

    def state(self):
        return self._call("GET", "/state")

    def mode(self, **m):
        return self._call("POST", "/mode", m)

    def reset(self):
        return self._call("POST", "/reset", {})

    def kick(self):
        return self._call("POST", "/kick", {})

    def mo(self, sender, text, to="95588"):
        return self._call("POST", "/mo", {"from": sender, "to": to, "text": text})

    def kefud_env(self, password=PASSWORD):
        return {"KEFU_NOTIFY_SMPP_HOST": "127.0.0.1", "KEFU_NOTIFY_SMPP_PORT": str(self.port),
                "KEFU_NOTIFY_SMPP_SYSTEM_ID": SYSTEM_ID, "KEFU_NOTIFY_SMPP_PASSWORD": password,
                "KEFU_NOTIFY_SMPP_SOURCE": "95588", "KEFU_NOTIFY_SMPP_WINDOW": "10",
                "KEFU_NOTIFY_SMPP_RATE": "500", "KEFU_NOTIFY_SMS_COST_FEN": "5",
                "KEFU_NOTIFY_SMPP_ENQUIRE_MS": "1000", "KEFU_NOTIFY_POLL_MS": "50"}
