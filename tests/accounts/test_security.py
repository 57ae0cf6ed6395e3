"""Security: no raw HTML with user data, parameterised SQL, paths confined to the store, upload limits,
formula-safe exports, secrets never logged, sign-in (Argon2id accounts, roles), audit log.

The browser check that a station named ``<img src=x onerror=alert(1)>`` renders as text is in
tests/ui/test_e2e_security.py.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regionair.accounts.auth import (
    PERMISSIONS,
    ROLES,
    AccountFile,
    add_commands,
    can,
    has_role,
    hash_password,
    verify_password,
)
from regionair.errors import InputError, StoreError
from regionair.render.exports import neutralise, to_csv_bytes, to_xlsx_bytes
from regionair.sources.upload import check_xlsx_container, preview_upload
from regionair.store import Store, audit

ROOT = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"


# --------------------------------------------------------------------------- HTML / markdown


def _code_files():
    yield ROOT / "app.py"
    yield from (ROOT / "pages").glob("*.py")
    yield from (ROOT / "regionair").rglob("*.py")


def test_no_unsafe_html_with_data_anywhere_in_the_app():
    """``unsafe_allow_html=True`` only with a constant literal (e.g. a CSS block), never with data;
    no ``st.html`` / ``components.html`` at all: user data can never become raw HTML."""
    import ast

    offenders = []
    for p in _code_files():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name.endswith(("st.html", "components.html", "components.v1.html")):
                offenders.append(f"{p.relative_to(ROOT)}:{node.lineno} {name}")
            unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                         for k in node.keywords)
            if unsafe and not (node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                offenders.append(f"{p.relative_to(ROOT)}:{node.lineno} unsafe_allow_html with non-literal content")
    assert offenders == []


def test_sidebar_names_are_plain_text_in_apptest(tmp_path, monkeypatch):
    """A user name with markup is shown as text by the sign-in block (AppTest)."""
    from streamlit.testing.v1 import AppTest

    acc = tmp_path / "accounts.json"
    AccountFile(acc).add("eve", "correct horse battery", "viewer")
    monkeypatch.setenv("REGIONAIR_ACCOUNTS", str(acc))
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path / "store"))
    at = AppTest.from_string(APP, default_timeout=30).run()
    at.text_input(key="_regionair_login_user").input(XSS)
    at.text_input(key="_regionair_login_pw").input("nope")
    at.button[0].click().run()
    assert not at.exception
    assert any("Wrong user name" in e.value or "错误" in e.value for e in at.sidebar.error)
    events = audit.events(Store(tmp_path / "store"))
    assert list(events["action"]) == ["login_failed"] and events["who"].iloc[0] == f"local:{XSS}"


# --------------------------------------------------------------------------- SQL and paths


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    t = pd.Timestamp("2022-01-01 01:00", tz="Asia/Shanghai")
    odd = ["1490A", "x' OR '1'='1", 'a"; DROP TABLE t; --', XSS, "$t0", "../../etc/passwd"]
    s.ingest_hourly(pd.DataFrame({"station": odd, "time": t, "pm25": range(1, len(odd) + 1)}), source="cnemc-archive")
    return s


@pytest.mark.parametrize("value", ["x' OR '1'='1", "1490A' --", "') OR 1=1; --", "$t0", "%", "*", "1490A\x00"])
def test_filters_are_bound_parameters_not_sql(store, value):
    got = store.hourly(stations=[value])
    assert set(got["station"]) <= {value}  # an exact match or nothing; never every row
    assert len(got) == (1 if value in ("x' OR '1'='1", "$t0") else 0)
    store.coverage(stations=[value]), store.latest(stations=[value]), store.revisions(stations=[value])


def test_hostile_station_codes_round_trip_exactly(store):
    got = store.hourly(columns=())
    assert set(got["station"]) == {"1490A", "x' OR '1'='1", 'a"; DROP TABLE t; --', XSS, "$t0", "../../etc/passwd"}
    assert not list(store.root.rglob("passwd"))  # a station name never becomes a path


@pytest.mark.parametrize("bad", ["../x", "a/b", "UPPER", "", "x" * 70, "a b", "..", "x;drop"])
def test_source_and_table_names_are_confined(store, bad):
    with pytest.raises(InputError):
        store.ingest_hourly(pd.DataFrame({"station": ["a"], "time": ["2022-01-01 01:00"], "pm25": [1.0]}), source=bad)
    with pytest.raises(InputError):
        store.append_records(bad, pd.DataFrame({"a": [1]}))
    with pytest.raises(InputError):
        store.records(bad)


@pytest.mark.parametrize("rel", ["../outside.parquet", "/etc/passwd", "hourly/../../x", "hourly\\..\\x", "other/x", ""])
def test_store_paths_cannot_leave_the_store(store, rel):
    with pytest.raises(StoreError, match="outside the store"):
        store._resolve(rel)


def test_uploaded_file_name_is_never_a_path(tmp_path):
    pv = preview_upload(b"station,time,pm25\n1490A,2022-01-01 01:00,5\n", "../../../etc/cron.d/evil.csv")
    assert pv.filename == "evil.csv"


@pytest.mark.parametrize("key", ["../x", "/abs", "a/../../b", "a//b", "a b", "a\\b"])
def test_http_cache_keys_are_confined(tmp_path, key):
    from regionair.sources.http import HttpClient

    with pytest.raises(InputError, match="unsafe cache key"):
        HttpClient(cache_dir=tmp_path).cache_path(key)


# --------------------------------------------------------------------------- upload limits


CSV = b"station,time,pm25\n" + b"".join(f"1490A,2022-01-01 {h:02d}:00,{h}\n".encode() for h in range(1, 21))


def test_upload_size_limit_configurable(monkeypatch):
    with pytest.raises(InputError, match="limit is"):
        preview_upload(CSV, "a.csv", max_bytes=100)
    monkeypatch.setenv("REGIONAIR_UPLOAD_MAX_BYTES", "100")
    with pytest.raises(InputError, match="limit is"):
        preview_upload(CSV, "a.csv")
    monkeypatch.setenv("REGIONAIR_UPLOAD_MAX_BYTES", "lots")
    with pytest.raises(InputError, match="must be an integer"):
        preview_upload(CSV, "a.csv")


def test_upload_row_limit_configurable(monkeypatch):
    with pytest.raises(InputError, match="row limit 10"):
        preview_upload(CSV, "a.csv", max_rows=10)
    monkeypatch.setenv("REGIONAIR_UPLOAD_MAX_ROWS", "10")
    with pytest.raises(InputError, match="row limit 10"):
        preview_upload(CSV, "a.csv")
    monkeypatch.delenv("REGIONAIR_UPLOAD_MAX_ROWS")
    assert len(preview_upload(CSV, "a.csv").frame) == 20


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


XLSX_PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def test_xlsx_zip_bomb_is_refused_before_decompression():
    bomb = _zip({**XLSX_PARTS, "xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(InputError, match="zip-bomb guard"):
        preview_upload(bomb, "bomb.xlsx")
    with pytest.raises(InputError, match="expands to"):
        check_xlsx_container(bomb, "bomb.xlsx", max_uncompressed=10 * 1024 * 1024, max_ratio=10**9)
    many = _zip({**XLSX_PARTS, **{f"xl/p{i}.xml": b"x" for i in range(50)}})
    with pytest.raises(InputError, match="parts"):
        check_xlsx_container(many, "many.xlsx", max_members=20)


@pytest.mark.parametrize("name,data,match", [
    ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "only .csv and .xlsx"),
    ("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old .xls or a password-protected"),
    ("a.xlsm", _zip(XLSX_PARTS), "only .csv and .xlsx"),
    ("a.xlsx", _zip({**XLSX_PARTS, "xl/vbaProject.bin": b"macro"}), "macro-enabled"),
    ("a.xlsx", _zip({"hello.txt": b"hi"}), "not an Excel workbook"),
    ("a.csv", _zip(XLSX_PARTS), "zip/xlsx file"),
    ("a.exe", b"MZ\x90\x00", "only .csv and .xlsx"),
    ("a.csv.exe", CSV, "only .csv and .xlsx"),
    ("a", CSV, "only .csv and .xlsx"),
    ("a.html", b"<html><script>alert(1)</script></html>", "only .csv and .xlsx"),
    ("a.csv", b"\x00\x01\x02binary", "binary content"),
])
def test_only_whitelisted_formats(name, data, match):
    with pytest.raises(InputError, match=match):
        preview_upload(data, name)


def test_formula_cells_in_uploads_are_rejected_not_stored():
    data = (b"station,time,pm25,pm10\n1490A,2022-01-01 01:00,=cmd|' /C calc'!A0,12\n"
            b"1490A,2022-01-01 02:00,@SUM(A1),+HYPERLINK(1)\n")
    pv = preview_upload(data, "f.csv")
    assert pv.frame["pm25"].isna().all() and pv.counts["cells_rejected"] == 3
    assert sum("formula" in i.message for i in pv.errors) == 3


# --------------------------------------------------------------------------- exports


FORMULAS = ["=1+1", "+1", "-1+cmd", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\")"]


def test_csv_and_xlsx_exports_neutralise_formulas():
    from openpyxl import load_workbook

    df = pd.DataFrame({"station": FORMULAS, "pm25": [-1.0] * len(FORMULAS), "note": ["ok"] * len(FORMULAS)})
    text = to_csv_bytes(df).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert all(v.startswith("'") for v in back["station"])
    assert (back["pm25"] == -1.0).all()  # numbers are data, untouched
    wb = load_workbook(io.BytesIO(to_xlsx_bytes(df)))
    ws = wb.active
    for row in ws.iter_rows(min_row=3):
        assert row[0].data_type != "f" and str(row[0].value).startswith("'")
        assert row[1].value == -1.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_neutralise_property(cells):
    out = neutralise(pd.DataFrame({"c": cells}))
    for before, after in zip(cells, out["c"]):
        if before[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert after == "'" + before
        else:
            assert after == before


# --------------------------------------------------------------------------- secrets


def test_secrets_file_is_git_ignored_and_the_example_is_placeholders_only():
    import tomllib

    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text().splitlines()
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")
    tomllib.loads(example)
    for line in example.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            pytest.fail(f"uncommented setting in the example: {line}")
    assert not re.search(r"(key|token|secret|password)\s*=\s*\"(?!\.\.\.|SEC\.\.\.)[^\"]{6,}\"", example,
                         flags=re.I) or "a-long-random-string" in example


def test_tokens_never_reach_logs_or_errors(caplog):
    from regionair.errors import SourceError
    from tests.httpfake import FakeServer, fast_client, status

    with FakeServer() as srv, caplog.at_level(logging.DEBUG):
        srv.script("/feed", status(503, "busy"))
        with pytest.raises(SourceError) as err:
            fast_client(retries=2).get(srv.url + "/feed", {"token": "s3cr3t-token", "apikey": "k3y-value"})
    assert "s3cr3t" not in caplog.text and "k3y-value" not in caplog.text
    assert "s3cr3t" not in str(err.value) and "token=***" in caplog.text


def test_audit_details_are_redacted(store, monkeypatch):
    monkeypatch.setenv("REGIONAIR_SMTP_PASSWORD", "hunter2hunter2")
    audit.record(store, who="local:ann", action="source_change",
                 detail="waqi https://api.waqi.info/map?token=abcdef123 smtp://ann:pa55word@mail password=xyz "
                        "pw hunter2hunter2", target="waqi")
    row = audit.events(store).iloc[0]
    for secret in ("abcdef123", "pa55word", "xyz", "hunter2hunter2"):
        assert secret not in row["detail"]
    assert "token=***" in row["detail"] and "ann:***@mail" in row["detail"]
    raw = b"".join(p.read_bytes() for p in store.root.rglob("*.parquet"))
    assert b"hunter2hunter2" not in raw and b"abcdef123" not in raw


# --------------------------------------------------------------------------- sign-in


def test_passwords_are_salted_argon2id():
    a, b = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert a != b and a.startswith("$argon2id$") and b.startswith("$argon2id$")
    assert verify_password(a, "correct horse battery") and not verify_password(a, "correct horse batter")
    assert not verify_password("not a hash", "x") and not verify_password("", "")
    with pytest.raises(InputError, match="too short"):
        hash_password("short")


def test_account_file_never_holds_plain_passwords(tmp_path):
    acc = AccountFile(tmp_path / "accounts.json")
    acc.add("ann", "correct horse battery", "analyst")
    acc.add("bob", "another long password", "admin")
    raw = acc.path.read_text()
    assert "correct horse" not in raw and "another long" not in raw
    assert stat.S_IMODE(acc.path.stat().st_mode) == 0o600
    assert acc.authenticate("ann", "correct horse battery").role == "analyst"
    assert acc.authenticate("ann", "wrong password!!") is None
    assert acc.authenticate("nobody", "correct horse battery") is None
    assert acc.authenticate("ann", None) is None
    acc.set_password("ann", "a brand new password")
    assert acc.authenticate("ann", "correct horse battery") is None
    assert acc.authenticate("ann", "a brand new password") is not None
    assert [u["user"] for u in acc.users()] == ["ann", "bob"] and "hash" not in acc.users()[0]
    with pytest.raises(InputError, match="exists"):
        acc.add("ann", "correct horse battery")
    for bad in ("../x", "A", "<b>", "a b", ""):
        with pytest.raises(InputError, match="not allowed"):
            acc.add(bad, "correct horse battery")
    with pytest.raises(InputError, match="role"):
        acc.add("carl", "correct horse battery", "root")
    acc.remove("bob")
    assert [u["user"] for u in acc.users()] == ["ann"]


def test_roles_are_cumulative():
    assert ROLES == ("viewer", "analyst", "admin")
    assert has_role("admin", "viewer") and has_role("analyst", "analyst") and not has_role("viewer", "analyst")
    assert not has_role(None, "viewer") and not has_role("root", "viewer")
    assert can("viewer", "view") and not can("viewer", "export")
    assert can("analyst", "export") and can("analyst", "decision_log") and not can("analyst", "upload")
    assert all(can("admin", p) for p in PERMISSIONS["analyst"] | {"upload", "sources", "alert_rules", "audit"})


def _cli(argv, stdin_text, monkeypatch):
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    return args.func(args)


def test_user_command_add_passwd_list_remove_and_audit(tmp_path, monkeypatch, capsys):
    acc = tmp_path / "accounts.json"
    st_root = tmp_path / "store"
    Store(st_root).append_records("seed", pd.DataFrame({"a": [1]}))  # an existing store gets the audit events
    base = ["--accounts", str(acc), "--store", str(st_root), "--password-stdin"]
    assert _cli(["user", "add", "ann", "--role", "analyst", *base], "correct horse battery\n", monkeypatch) == 0
    assert _cli(["user", "passwd", "ann", *base], "a brand new password\n", monkeypatch) == 0
    assert _cli(["user", "list", "--accounts", str(acc)], "", monkeypatch) == 0
    out = capsys.readouterr().out
    assert "ann" in out and "analyst" in out and "brand new" not in out
    assert AccountFile(acc).authenticate("ann", "a brand new password").role == "analyst"
    assert _cli(["user", "remove", "ann", *base], "", monkeypatch) == 0
    ev = audit.events(Store(st_root))
    assert sorted(ev["action"]) == ["user_add", "user_passwd", "user_remove"]
    assert all(w.startswith("cli:") for w in ev["who"])
    assert "correct horse" not in json.dumps(ev.astype(str).to_dict())


APP = """
import streamlit as st
from regionair.ui import auth
auth.sidebar()
if auth.require_role("admin"):
    st.write("ADMIN AREA")
"""


def test_sign_in_off_says_so_and_local_sign_in_enforces_roles(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("REGIONAIR_ACCOUNTS", str(tmp_path / "none.json"))
    monkeypatch.delenv("REGIONAIR_AUTH", raising=False)
    at = AppTest.from_string(APP, default_timeout=30).run()
    assert any("Sign-in is off" in c.value or "未启用登录" in c.value for c in at.sidebar.caption)
    assert any("ADMIN AREA" in m.value for m in at.markdown)  # local demo: the operator's own machine

    acc = tmp_path / "accounts.json"
    AccountFile(acc).add("ann", "correct horse battery", "analyst")
    monkeypatch.setenv("REGIONAIR_ACCOUNTS", str(acc))
    at = AppTest.from_string(APP, default_timeout=30).run()
    assert not any("ADMIN AREA" in m.value for m in at.markdown)
    at.text_input(key="_regionair_login_user").input("ann")
    at.text_input(key="_regionair_login_pw").input("correct horse battery")
    at.button[0].click().run()
    assert not at.exception
    assert any("ann" in c.value and "analyst" in c.value for c in at.sidebar.caption)
    assert not any("ADMIN AREA" in m.value for m in at.markdown)
    assert any("admin" in w.value for w in at.warning)  # analyst: told the admin role is needed
    ev = audit.events(Store(tmp_path / "store"))
    assert list(ev["action"]) == ["login"] and ev["who"].iloc[0] == "local:ann"


def test_audit_log_vocabulary_and_order(store):
    for action in ("upload", "export", "alert_rule_change", "delete"):
        audit.record(store, who="local:ann", action=action, detail=f"{action} detail", target="x")
    ev = audit.events(store)
    assert list(ev["action"]) == ["delete", "alert_rule_change", "export", "upload"]  # newest first
    assert set(ev.columns) == {"time", "who", "action", "target", "detail"}
    assert ev["time"].dt.tz is not None
    assert list(audit.events(store, action="export")["action"]) == ["export"]
    with pytest.raises(InputError, match="unknown"):
        audit.record(store, who="x", action="rm -rf")
