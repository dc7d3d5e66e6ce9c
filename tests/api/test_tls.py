"""Optional TLS: with tls_cert and tls_key set, kefud serves HTTPS on the same port."""
import os
import ssl
import subprocess
import tempfile
import time
import urllib.request

from conftest import BUILD, free_port


def test_https_with_self_signed_certificate():
    tmp = tempfile.mkdtemp(prefix="kefu-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    port = free_port()
    env = dict(os.environ, KEFU_DB=os.path.join(tmp, "k.db"), KEFU_LISTEN=f"127.0.0.1:{port}", KEFU_TLS_CERT=cert,
               KEFU_TLS_KEY=key, KEFU_ACCESS_LOG="false")
    proc = subprocess.Popen([os.path.join(BUILD, "src", "kefud")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        body = None
        for _ in range(200):
            try:
                body = urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=ctx, timeout=2).read()
                break
            except Exception:
                time.sleep(0.05)
        assert body == b'{"status":"ok"}'
        # Plain HTTP on the TLS port gets no answer, not a page.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            assert False, "plain HTTP was answered on the TLS port"
        except AssertionError:
            raise
        except Exception:
            pass
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
