"""kefuctl audit verify detects edited and deleted operation-log rows (runs last)."""
import os
import sqlite3
import subprocess

import pytest
from conftest import BUILD


def kefuctl(server, *args):
    return subprocess.run([os.path.join(BUILD, "src", "kefuctl"), *args], env=server["env"],
                          capture_output=True, text=True, timeout=120)


def test_zz_kefuctl_verify_backup_and_tamper(server, admin):
    r = kefuctl(server, "audit", "verify")
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
    if server["db"].startswith("postgres"):
        r = kefuctl(server, "backup", "/tmp/x.dump")
        assert "pg_dump" in r.stdout
        return
    backup = os.path.join(server["tmp"], "backup.db")
    r = kefuctl(server, "backup", backup)
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(backup)
    assert con.execute("SELECT COUNT(*) FROM staff").fetchone()[0] >= 30
    # The triggers refuse edits; someone with file access drops them and edits a row.
    with pytest.raises(sqlite3.DatabaseError):
        con.execute("UPDATE audit_log SET actor_name = 'x' WHERE id = 2")
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("DROP TRIGGER audit_log_no_delete")
    con.execute("UPDATE audit_log SET actor_name = 'mallory' WHERE id = 3")
    con.commit()
    env = dict(server["env"], KEFU_DB=backup)
    r = subprocess.run([os.path.join(BUILD, "src", "kefuctl"), "audit", "verify"], env=env, capture_output=True, text=True)
    assert r.returncode == 3 and "row 3 was altered" in r.stdout, r.stdout
    con.execute("UPDATE audit_log SET actor_name = (SELECT actor_name FROM audit_log WHERE id = 4) WHERE id = 3")
    con.execute("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")
    con.commit()
    r = subprocess.run([os.path.join(BUILD, "src", "kefuctl"), "audit", "verify"], env=env, capture_output=True, text=True)
    assert r.returncode == 3, r.stdout
