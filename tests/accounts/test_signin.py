"""Sign-in fails closed (issue 16 §2): a malformed or mistyped ``.streamlit/secrets.toml`` stops the app with a
message naming the file, line and fix; the demo runs only when nothing is configured and says so on the page;
viewers get no export of any kind; failed sign-ins are throttled and audited; a password typed into the
user-name field is never written; a removed account, a changed role or password takes effect at the next run.
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from regionair.accounts import auth as A
from regionair.accounts.auth import (
    FREE_FAILURES,
    AccountFile,
    LoginThrottle,
    hash_password,
    oidc_role,
    read_secrets,
    signin_settings,
)
from regionair.errors import ConfigError
from regionair.store import Store, audit

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x" * 40  # a cookie_secret long enough
GOOD_AUTH = f'''[auth]
redirect_uri = "https://aq.example.gov.cn/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "regionair"
client_secret = "s3cr3t-client"
server_metadata_url = "https://sso.example.gov.cn/.well-known/openid-configuration"
'''
APP = """
import streamlit as st
from regionair.ui import auth
user = auth.sidebar()
auth.gate(user)
st.write("VISIBLE")
if auth.allowed("export"):
    st.write("EXPORT OK")
if auth.require_role("admin", stop=False):
    st.write("ADMIN AREA")
"""


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    """No sign-in setting leaks in from the machine: secrets files, account file and store all in tmp_path."""
    from streamlit import config

    old = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(tmp_path / "secrets.toml")])
    monkeypatch.setenv("REGIONAIR_ACCOUNTS", str(tmp_path / "accounts.json"))
    monkeypatch.setenv("REGIONAIR_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("REGIONAIR_AUTH", raising=False)
    monkeypatch.delenv("REGIONAIR_DEMO_ROLE", raising=False)
    A.THROTTLE._state.clear()
    yield
    config.set_option("secrets.files", old)
    A.THROTTLE._state.clear()


def _settings(tmp_path, text: str, **env) -> A.SigninSettings:
    p = tmp_path / "secrets.toml"
    p.write_text(text, encoding="utf-8")
    return signin_settings(read_secrets([p]), environ=env, accounts=tmp_path / "accounts.json")


def _problems(tmp_path, text: str, **env) -> list[str]:
    with pytest.raises(ConfigError) as err:
        _settings(tmp_path, text, **env)
    return err.value.problems


def _run(**state) -> AppTest:
    at = AppTest.from_string(APP, default_timeout=60)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def _md(at) -> str:
    return " ".join(m.value for m in at.markdown)


def _login(at, name: str, password: str) -> AppTest:
    at.text_input(key="_regionair_login_user").input(name)
    at.text_input(key="_regionair_login_pw").input(password)
    return at.button[0].click().run()


# --------------------------------------------------------------------------- the secrets file


def test_malformed_secrets_file_stops_the_app_naming_file_line_and_column(tmp_path):
    (tmp_path / "secrets.toml").write_text('[auth]\nredirect_uri = "https://a.cn/oauth2callback"\n[auth\n',
                                           encoding="utf-8")
    at = _run()
    assert not at.exception
    assert "VISIBLE" not in _md(at) and "ADMIN AREA" not in _md(at)  # was: the demo, everybody admin
    text = " ".join(e.value for e in at.error)
    assert "secrets.toml, line 3, column 6" in text.replace("\\", "") and "TOML" in text
    assert "登录配置有误" in text


@pytest.mark.parametrize("text, expected", [
    pytest.param(GOOD_AUTH.replace("[auth]", "[Auth]"), ["line 1, column 1: section [Auth]", "did you mean [auth]"],
                 id="capitalised-section"),
    pytest.param(GOOD_AUTH.replace("[auth]", "[auht]"), ["line 1, column 1: section [auht]", "did you mean [auth]"],
                 id="misspelt-section"),
    pytest.param(GOOD_AUTH.replace("[auth]", "[login]"), ["line 1, column 1: [login] holds sign-in settings",
                                                          "must be called [auth]"], id="section-under-another-name"),
    pytest.param(GOOD_AUTH.replace("[auth]\n", "") + "[auth]\n", ["line 1, column 1: redirect_uri is outside any section"],
                 id="header-below-its-keys"),
    pytest.param(GOOD_AUTH.replace("client_secret =", "client_sercet ="),
                 ["line 5, column 1: unknown key 'client_sercet' in [auth]; did you mean 'client_secret'?",
                  "[auth] lacks client_secret"], id="unknown-key"),
    pytest.param(GOOD_AUTH.replace('redirect_uri = "https://aq.example.gov.cn/oauth2callback"', "redirect_uri = 8501"),
                 ["line 2, column 1: [auth] redirect_uri must be a string in quotes, not int 8501"], id="wrong-type"),
    pytest.param(GOOD_AUTH.replace(f'"{SECRET}"', '"short"'), ["line 3, column 1: [auth] cookie_secret has 5 characters"],
                 id="weak-cookie-secret"),
    pytest.param(GOOD_AUTH.replace("/oauth2callback", "/callback"), ["redirect_uri must end with /oauth2callback"],
                 id="wrong-callback"),
    pytest.param(GOOD_AUTH + '\n[regionair.roles]\n"ann@example.gov.cn" = "analsyt"\n',
                 ["line 9, column 1: role 'analsyt' of 'ann@example.gov.cn' unknown; did you mean 'analyst'?"],
                 id="unknown-role"),
    pytest.param(GOOD_AUTH + '\n[regionair.role]\n"*" = "viewer"\n',
                 ["unknown key 'role' in [regionair]; did you mean 'roles'?"], id="misspelt-roles-table"),
    pytest.param('[regionair.roles]\n"*" = "viewer"\n', ["[regionair] roles are set but sign-in is not"],
                 id="roles-without-auth"),
    pytest.param(GOOD_AUTH + 'expose_tokens = ["id", "refresh"]\n', ["expose_tokens allows only 'id' and 'access'"],
                 id="bad-expose-tokens"),
    pytest.param('[auth]\nredirect_uri = "https://a.cn/oauth2callback"\ncookie_secret = "' + SECRET + '"\n',
                 ["[auth] names no identity provider"], id="no-provider"),
])
def test_a_typo_in_the_sign_in_settings_is_an_error_not_the_demo(tmp_path, monkeypatch, text, expected):
    monkeypatch.setattr(A, "_authlib_missing", lambda: False)
    problems = " | ".join(_problems(tmp_path, text))
    for piece in expected:
        assert piece in problems, problems
    assert str(tmp_path / "secrets.toml") in problems


def test_a_typo_stops_the_page_with_every_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "_authlib_missing", lambda: False)
    (tmp_path / "secrets.toml").write_text(GOOD_AUTH.replace("[auth]", "[Auth]"), encoding="utf-8")
    at = _run()
    assert not at.exception
    assert "VISIBLE" not in _md(at) and "ADMIN AREA" not in _md(at)
    assert "section \\[Auth\\]" in at.error[0].value  # escaped for Markdown, shown literally


def test_environment_typos_are_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "_authlib_missing", lambda: False)
    assert "did you mean 'local'" in _problems(tmp_path, "", REGIONAIR_AUTH="locla")[0]
    assert "no secrets file has an [auth] section" in _problems(tmp_path, "", REGIONAIR_AUTH="oidc")[0]
    assert "did you mean 'admin'" in _problems(tmp_path, "", REGIONAIR_DEMO_ROLE="amdin")[0]
    monkeypatch.setattr(A, "_authlib_missing", lambda: True)
    assert "needs Authlib" in _problems(tmp_path, GOOD_AUTH)[0]


def test_demo_only_when_nothing_is_configured_and_the_page_says_so(tmp_path):
    assert _settings(tmp_path, "").mode == "off"
    assert _settings(tmp_path, '[alerts]\n[[alerts.targets]]\ntype = "json"\n').mode == "off"  # alerts only
    at = _run()
    assert not at.exception
    assert "ADMIN AREA" in _md(at)
    page = " ".join(c.value for c in at.caption)  # the main area, not only the sidebar
    assert "本地演示模式" in page and "管理员" in page
    (tmp_path / "secrets.toml").write_text("[alerts]\n", encoding="utf-8")
    assert "ADMIN AREA" in _md(_run())


def test_valid_oidc_settings_need_a_sign_in_and_map_roles(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "_authlib_missing", lambda: False)
    text = (GOOD_AUTH.split("client_id")[0] + '[auth.corp]\nclient_id = "regionair"\nclient_secret = "abc"\n'
            'server_metadata_url = "https://sso.example.gov.cn/.well-known/openid-configuration"\n'
            '[regionair.roles]\n"Ann@Example.gov.cn" = "analyst"\n"eve@example.gov.cn" = "none"\n"*" = "viewer"\n')
    s = _settings(tmp_path, text)
    assert (s.mode, s.providers) == ("oidc", ("corp",))
    assert oidc_role(s, "ann@example.GOV.cn") == "analyst"
    assert oidc_role(s, "eve@example.gov.cn") is None  # "none": signed in at the provider, no access here
    assert oidc_role(s, "someone@else.cn") == "viewer"
    at = _run()
    assert not at.exception
    assert "VISIBLE" not in _md(at)  # anonymous visitors stop at the sign-in
    assert [b.label for b in at.sidebar.button] == ["通过 corp 登录"]


# --------------------------------------------------------------------------- local accounts


def test_password_typed_into_the_user_name_field_is_never_written(tmp_path, caplog):
    AccountFile(tmp_path / "accounts.json").add("ann", "correct horse battery", "analyst")
    caplog.set_level(logging.DEBUG)
    at = _run()
    _login(at, "correct horse battery", "")  # the password went into the name field
    assert not at.exception and at.sidebar.error
    _login(at, "ann", "wrong password!!")
    ev = audit.events(Store(tmp_path / "store"))
    assert list(ev["who"]) == ["local:ann", "local:unknown user"]  # newest first
    assert list(ev["action"]) == ["login_failed", "login_failed"]
    raw = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    assert b"correct horse" not in raw and b"wrong password" not in raw
    assert "correct horse" not in caplog.text


def test_failed_sign_ins_are_throttled_per_user_name_and_audited(tmp_path):
    AccountFile(tmp_path / "accounts.json").add("ann", "correct horse battery", "analyst")
    at = _run()
    for _ in range(FREE_FAILURES):
        _login(at, "ann", "wrong password!!")
    assert "60" in at.sidebar.error[0].value  # the fifth failure starts a 60 s lock
    _login(at, "ann", "correct horse battery")  # right password, but locked: refused without checking it
    assert not at.exception
    assert "EXPORT OK" not in _md(at) and "60" in at.sidebar.error[0].value
    other = _run()  # another session (a new browser): the user name is locked there too
    _login(other, "ANN ", "correct horse battery")
    assert "EXPORT OK" not in _md(other) and other.sidebar.error
    ev = audit.events(Store(tmp_path / "store"))
    assert sorted(ev["action"].value_counts().items()) == [("login_failed", 5), ("login_locked", 1)]
    assert "locked for 60 s" in ev.loc[ev["action"] == "login_locked", "detail"].iloc[0]


def test_throttle_doubles_caps_forgets_and_resets():
    now = [1000.0]
    th = LoginThrottle(clock=lambda: now[0])
    u, s = th.user_key("ann"), th.session_key("s1")
    assert [th.failure(u, s) for _ in range(4)] == [0, 0, 0, 0] and th.wait(u) == 0
    assert th.failure(u, s) == 60 and th.wait(u) == 60 and th.wait(s) == 60
    now[0] += 61
    assert th.wait(u, s) == 0
    assert [th.failure(u) for _ in range(5)] == [120, 240, 480, 900, 900]  # doubling, capped at 15 min
    assert th.wait(th.user_key(" ANN ")) == 900  # the same name however typed
    th.success(u)
    assert th.wait(u) == 0 and th.failures(u) == 0
    th.failure(u)
    now[0] += A.FORGET_S + 1
    assert th.failure(u) == 0 and th.failures(u) == 1  # old failures forgotten
    small = LoginThrottle(clock=lambda: now[0], max_keys=50)
    for i in range(500):  # a spray of names cannot fill the memory
        small.failure(small.user_key(f"n{i}"))
    assert len(small._state) <= 50


def test_removed_account_changed_role_or_password_take_effect_at_the_next_run(tmp_path):
    acc = AccountFile(tmp_path / "accounts.json")
    acc.add("ann", "correct horse battery", "analyst")
    acc.add("bob", "another long password", "admin")
    at = _login(_run(), "ann", "correct horse battery")
    assert "EXPORT OK" in _md(at)
    acc.set_role("ann", "viewer")
    at.run()
    assert "VISIBLE" in _md(at) and "EXPORT OK" not in _md(at)  # was: the analyst role kept
    assert any("查看者" in c.value for c in at.sidebar.caption)
    acc.remove("ann")
    at.run()
    assert not at.exception
    assert "VISIBLE" not in _md(at) and at.sidebar.warning  # signed out, told why
    bob = _login(_run(), "bob", "another long password")
    assert "ADMIN AREA" in _md(bob)
    acc.set_password("bob", "a brand new password")
    bob.run()
    assert "ADMIN AREA" not in _md(bob) and "VISIBLE" not in _md(bob)
    ev = audit.events(Store(tmp_path / "store"))
    assert sorted(ev.loc[ev["action"] == "session_revoked", "who"]) == ["local:ann", "local:bob"]


def test_an_account_file_that_goes_away_does_not_turn_on_the_demo(tmp_path):
    AccountFile(tmp_path / "accounts.json").add("ann", "correct horse battery", "admin")
    at = _run()
    assert "VISIBLE" not in _md(at)
    (tmp_path / "accounts.json").unlink()
    at = _run()
    assert not at.exception
    assert "ADMIN AREA" not in _md(at) and "VISIBLE" not in _md(at)  # was: sign-in off, everybody admin
    assert "has gone" in at.error[0].value


def test_a_damaged_account_file_stops_the_app_with_its_line(tmp_path):
    (tmp_path / "accounts.json").write_text('{"format": 1, "users": {"ann": ', encoding="utf-8")
    at = _run()
    assert not at.exception  # was: a traceback at the first sign-in
    assert "VISIBLE" not in _md(at)
    assert "accounts.json, line 1, column 32" in at.error[0].value.replace("\\", "")


def test_an_account_with_an_unknown_role_gets_no_access(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"format": 1, "users": {"mal": {"role": "root", "hash": hash_password("correct horse battery")}}}))
    assert AccountFile(path).authenticate("mal", "correct horse battery") is None  # was: signed in as viewer


# --------------------------------------------------------------------------- roles on exports


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive

    path = tmp_path_factory.mktemp("signin_store")
    Store(path).ingest_hourly(read_archive(ROOT / "data" / "sample"), source="cnemc-archive")
    return path


@pytest.mark.parametrize("role, exports", [("viewer", False), ("analyst", True), ("admin", True)])
def test_only_analysts_and_admins_get_export_buttons(sample_store, tmp_path, monkeypatch, role, exports):
    acc = AccountFile(tmp_path / "accounts.json")
    acc.add("ann", "correct horse battery", role)
    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))
    for page in ("data", "trends"):
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=180)
        at.session_state["_regionair_user"] = acc.account("ann")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        buttons = at.get("download_button")
        charts = at.get("plotly_chart")
        assert charts
        if exports:
            assert len(buttons) >= 2 * len(charts)  # CSV + XLSX per chart (+ the page's own downloads)
        else:
            assert buttons == []  # was: every viewer got CSV/XLSX (and the bundle) on every chart
            assert all("toImage" in json.loads(c.proto.config)["modeBarButtonsToRemove"] for c in charts)


@pytest.mark.parametrize("role, briefings", [("viewer", 0), ("analyst", 4)])
def test_only_analysts_download_briefings_and_the_meeting_bundle(sample_store, tmp_path, monkeypatch, role, briefings):
    from regionair import meeting

    acc = AccountFile(tmp_path / "accounts.json")
    acc.add("ann", "correct horse battery", role)
    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))
    snap = meeting.create_snapshot(Store(sample_store), cutoff="2026-03-11 00:00", start="2026-03-10 01:00",
                                   units=["urumqi", "changji"], title="会商")
    at = AppTest.from_file(str(ROOT / "pages" / "meeting.py"), default_timeout=180)
    at.query_params["snapshot"] = snap.id
    at.session_state["_regionair_user"] = acc.account("ann")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    keys = [b.proto.id for b in at.get("download_button")]
    dl = [b for b in at.get("download_button") if "mt_dl_" in b.proto.id or "mt_bundle" in b.proto.id]
    assert len(dl) == briefings, keys  # DOCX, PDF, HTML and the bundle; none for a viewer


def test_viewer_gets_no_bundle(tmp_path, monkeypatch):
    acc = AccountFile(tmp_path / "accounts.json")
    acc.add("vic", "correct horse battery", "viewer")

    def script():
        import pandas as pd
        import plotly.graph_objects as go

        from regionair.ui import export
        from regionair.ui.filters import Filters

        export.reset()
        export.register(go.Figure(go.Bar(x=["甲"], y=[1])), pd.DataFrame({"x": [1]}), "one")
        export.bundle_button(Filters(start=pd.Timestamp("2022-01-01 01:00", tz="Asia/Shanghai"),
                                     end=pd.Timestamp("2022-01-02 00:00", tz="Asia/Shanghai")), "demo")

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["_regionair_user"] = acc.account("vic")
    at.run()
    assert not at.exception and at.get("download_button") == []
    acc.set_role("vic", "analyst")
    at.run()
    assert len(at.get("download_button")) == 1


def test_the_tables_own_csv_download_is_off():
    """st.dataframe's toolbar download would bypass roles and audit: the server turns it off for everybody."""
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["disableDataExport"] is True


def test_audit_vocabulary_has_every_action_the_app_records():
    """Every ``record("…")`` in the pages and the package names a known action (an unknown one raises InputError
    when an admin clicks: pages/warnings.py's test send did)."""
    import ast

    used = set()
    for path in [ROOT / "app.py", *ROOT.joinpath("pages").glob("*.py"), *ROOT.joinpath("regionair").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("record") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                used.add(node.args[0].value)
    assert {"login_locked", "session_revoked", "alert_test_send", "export", "upload"} <= used | audit.ACTIONS
    assert used - audit.ACTIONS == set()
