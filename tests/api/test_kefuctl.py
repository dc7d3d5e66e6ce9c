"""kefuctl import and export against the same database the running kefud uses."""
import csv
import io
import json
import os
import subprocess

from conftest import BUILD


def kefuctl(server, *args, stdin=None):
    return subprocess.run([os.path.join(BUILD, "src", "kefuctl"), *args], env=server["env"],
                          capture_output=True, text=True, timeout=60, input=stdin)


def test_kefuctl_export_import_and_rejected_rows(server, admin, tmp_path):
    r = kefuctl(server, "export", "contact_type")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and {"code", "name", "channel"} <= set(rows[0])
    assert len(rows) == admin.get("/api/v1/contact_type?page_size=1").json()["total"]

    good = tmp_path / "good.csv"
    good.write_text("code,name,channel,direction\ncli_line,命令行导入,phone,inbound\n", encoding="utf-8")
    r = kefuctl(server, "import", "contact_type", str(good))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["written"] == 1
    assert admin.get("/api/v1/contact_type?code=cli_line").json()["total"] == 1

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,channel,direction\ncli_ok,好,phone,inbound\ncli_bad,坏,pigeon,inbound\n",
                   encoding="utf-8")
    r = kefuctl(server, "import", "contact_type", str(bad))
    assert r.returncode == 3  # nothing written when any row fails
    out = json.loads(r.stdout)
    assert out["written"] == 0 and out["errors"][0]["row"] == 3 and out["errors"][0]["field"] == "channel"
    assert admin.get("/api/v1/contact_type?code=cli_ok").json()["total"] == 0
    r = kefuctl(server, "import", "contact_type", str(bad), "--mode", "valid")  # the good rows, reporting the rest
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["written"] == 1 and len(out["errors"]) == 1

    xlsx = tmp_path / "types.xlsx"
    r = kefuctl(server, "export", "contact_type", "--format", "xlsx", "-o", str(xlsx))
    assert r.returncode == 0 and xlsx.stat().st_size > 0
