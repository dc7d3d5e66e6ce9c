"""A real SMTP server for the e-mail channel's tests: aiosmtpd (Debian's python3-aiosmtpd) on a
free port, with STARTTLS on a throw-away certificate and a login, recording what arrived.
Recipients steer its answers: bounce@… is refused for good (550), later@… is refused once for now
(451) and then taken."""
import email
import email.policy
import os
import ssl
import subprocess
import tempfile
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import free_port

USER, PASSWORD = "kefu", "Mail@2026"


class Recorder:
    def __init__(self, delay=0.0):
        self.messages = []  # email.message.EmailMessage, in order of arrival
        self.lock = threading.Lock()
        self.refused_once = set()
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("later@") and address not in self.refused_once:
            self.refused_once.add(address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 2.0.0 Ok: queued"

    def count(self):
        with self.lock:
            return len(self.messages)

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = getattr(auth_data, "login", b"") == USER.encode() and getattr(auth_data, "password", b"") == PASSWORD.encode()
    return AuthResult(success=ok)


class SmtpServer:
    """start() / stop(); `ca` is the certificate file kefud is told to trust."""

    def __init__(self, delay=0.0, port=None):
        self.dir = tempfile.mkdtemp(prefix="kefu-smtp-")
        self.ca = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", self.ca],
                       check=True, capture_output=True)
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(self.ca, key)
        self.port = port or free_port()
        self.recorder = Recorder(delay)
        self.controller = None

    def start(self):
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, tls_context=self.tls,
                                     require_starttls=True, authenticator=_authenticate, auth_require_tls=True,
                                     auth_exclude_mechanism=["CRAM-MD5"])
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def kefud_env(self):
        return {"KEFU_NOTIFY_SMTP_URL": f"smtp://127.0.0.1:{self.port}", "KEFU_NOTIFY_SMTP_USER": USER,
                "KEFU_NOTIFY_SMTP_PASSWORD": PASSWORD, "KEFU_NOTIFY_SMTP_TLS": "require",
                "KEFU_NOTIFY_SMTP_CA": self.ca, "KEFU_NOTIFY_SMTP_FROM": "客服中心 <service@kefu.example>",
                "KEFU_NOTIFY_POLL_MS": "50", "KEFU_NOTIFY_EMAIL_COST_FEN": "1"}
