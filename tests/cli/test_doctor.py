"""``python -m regionair doctor``: each check finds what is wrong, says how to fix it, and never hangs.

Machines are simulated: a PATH without Chromium or fc-list, fake executables that hang or print,
read-only stores, local HTTP servers (never the network), secrets files with typical mistakes.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regionair.cli import doctor
from regionair.cli.doctor import FAIL, OK, SKIP
from tests.pipeline.test_deadlines import DripServer, _alive, run_bounded

ROOT = Path(__file__).resolve().parents[2]


def _exe(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o755)
    return p




# ------------------------------------------------------------------------------------------------ chromium


def test_no_chromium(no_chromium):
    c = doctor.check_chromium(5)
    assert c.status == FAIL
    assert "none of chromium, chromium-browser" in c.detail and "make system" in c.fix
    assert doctor.check_images(5, chromium_ok=False).status == SKIP


def test_hanging_chromium_is_stopped_at_the_timeout(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    exe = _exe(tmp_path / "b", "chromium", f"echo $$ >> {pids}\nexec sleep 300")
    monkeypatch.setenv("REGIONAIR_CHROMIUM", str(exe))
    elapsed, c = run_bounded(lambda: doctor.check_chromium(2), 30)
    assert c.status == FAIL and f"{exe} did not answer within 2 s (it hangs)" in c.detail
    assert "make system" in c.fix
    assert 1.9 <= elapsed < 6
    assert not any(_alive(int(p)) for p in pids.read_text().split())


def test_chromium_that_cannot_start(tmp_path, monkeypatch):
    exe = _exe(tmp_path / "b", "chromium", "echo 'error while loading shared libraries: libnss3.so' >&2; exit 127")
    monkeypatch.setenv("REGIONAIR_CHROMIUM", str(exe))
    c = doctor.check_chromium(10)
    assert c.status == FAIL and "does not start headless (exit 127)" in c.detail and "libnss3.so" in c.detail


def test_chromium_that_answers(tmp_path, monkeypatch):
    # prints the page it was given, as `--dump-dom` does
    exe = _exe(tmp_path / "b", "chromium", 'for a; do case "$a" in data:*) echo "${a#data:text/html,}";; esac; done')
    monkeypatch.setenv("REGIONAIR_CHROMIUM", str(exe))
    c = doctor.check_chromium(10)
    assert c.status == OK and c.detail.startswith(f"{exe} started headless and answered in ")


# ------------------------------------------------------------------------------------------------ fonts


def test_fonts_without_fontconfig(no_chromium):
    c = doctor.check_fonts(5)
    assert c.status == FAIL and "fc-list (fontconfig) is not installed" in c.detail
    assert "fonts-noto-cjk" in c.fix


def test_fonts_none_with_chinese_glyphs(no_chromium):
    _exe(no_chromium, "fc-list", "exit 0")
    c = doctor.check_fonts(5)
    assert c.status == FAIL and "no font with Chinese glyphs" in c.detail and "apt-get install fonts-noto-cjk" in c.fix


def test_fonts_listed(no_chromium):
    _exe(no_chromium, "fc-list", "printf 'Noto Sans CJK SC,Noto Sans CJK JP\\nWenQuanYi Micro Hei\\n'")
    c = doctor.check_fonts(5)
    assert c.status == OK and c.detail == "3 families with Chinese glyphs, including Noto Sans CJK SC"


def test_fonts_without_noto(no_chromium):
    _exe(no_chromium, "fc-list", "echo 'WenQuanYi Micro Hei'")
    c = doctor.check_fonts(5)
    assert c.status == OK and "Noto Sans CJK SC, the charts' first choice, is not among them" in c.detail


# ------------------------------------------------------------------------------------------------ store


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("doctor_store")
    Store(path).ingest_hourly(read_archive(ROOT / "data" / "sample" / "region_2022-01-01.csv"), source="cnemc-archive")
    return path


def test_store_ok(sample_store):
    c = doctor.check_store(str(sample_store))
    assert c.status == OK
    assert c.detail == f"{sample_store} readable and writable (version 1, latest hour 2022-01-02 00:00)"


def test_store_from_the_environment(sample_store, monkeypatch):
    monkeypatch.setenv("REGIONAIR_STORE", str(sample_store))
    assert doctor.check_store(None).status == OK


def test_store_missing(tmp_path):
    c = doctor.check_store(str(tmp_path / "nowhere"))
    assert c.status == FAIL and "no store at" in c.detail and "python -m regionair ingest" in c.fix


def test_store_read_only(sample_store, monkeypatch):
    def refuse(*a, **kw):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(doctor.tempfile, "mkstemp", refuse)
    c = doctor.check_store(str(sample_store))
    assert c.status == FAIL and "can be read but not written (Read-only file system)" in c.detail
    assert "remount read-write" in c.fix


# ------------------------------------------------------------------------------------------------ sources


def test_sources_offline_contacts_nothing(monkeypatch):
    monkeypatch.setattr(doctor, "SOURCE_URLS", lambda: pytest.fail("contacted a source with --offline"))
    (c,) = doctor.check_sources(5, offline=True)
    assert c.status == SKIP


def test_sources_each_answer_or_fail_within_the_timeout(server, monkeypatch):
    from tests.httpfake import ok, status

    server.script("/ok.csv", ok("time,pm25\n"))
    server.script("/busy", status(503, "down"))
    with DripServer("body") as drip:
        monkeypatch.setattr(doctor, "SOURCE_URLS", lambda: [
            ("up", server.url + "/ok.csv"), ("later", server.url + "/not-yet.csv"), ("busy", server.url + "/busy"),
            ("refused", "http://127.0.0.1:1/x"), ("drip", drip.url + "/x")])
        elapsed, checks = run_bounded(lambda: doctor.check_sources(2, offline=False), 30)
    by = {c.name: c for c in checks}
    assert [c.status for c in checks] == [OK, OK, FAIL, FAIL, FAIL]
    assert by["source up"].detail.startswith(f"{server.url}/ok.csv answered 10 bytes in ")
    assert "HTTP 404: not published yet" in by["source later"].detail
    assert "HTTP 503" in by["source busy"].detail
    assert "connection failed" in by["source refused"].detail
    assert "2 s deadline" in by["source drip"].detail
    assert "--offline skips this check" in by["source drip"].fix
    assert elapsed < 8


def test_default_source_urls_follow_the_environment(monkeypatch):
    monkeypatch.setenv("REGIONAIR_CNEMC_BASE_URL", "http://127.0.0.1:9/archive")
    monkeypatch.setenv("REGIONAIR_QUOTSOFT_BASE_URL", "http://127.0.0.1:9/quotsoft")
    urls = dict(doctor.SOURCE_URLS())
    assert urls["CNEMC archive"].startswith("http://127.0.0.1:9/archive/")
    assert urls["quotsoft"].startswith("http://127.0.0.1:9/quotsoft/")
    assert urls["Open-Meteo"].startswith("https://air-quality-api.open-meteo.com/")


# ------------------------------------------------------------------------------------------------ sign-in

GOOD_AUTH = """
[auth]
redirect_uri = "https://aq.bureau.example/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef"
client_id = "regionair"
client_secret = "s3cr3t-value"
server_metadata_url = "https://sso.bureau.example/.well-known/openid-configuration"

[regionair.roles]
"admin@bureau.example" = "admin"
"*" = "viewer"
"""


@pytest.fixture
def no_accounts(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIONAIR_ACCOUNTS", str(tmp_path / "accounts.json"))
    monkeypatch.delenv("REGIONAIR_AUTH", raising=False)
    monkeypatch.delenv("REGIONAIR_DEMO_ROLE", raising=False)


def _secrets(tmp_path, text: str) -> Path:
    p = tmp_path / "secrets.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_signin_complete(tmp_path, no_accounts):
    c = doctor.check_signin(_secrets(tmp_path, GOOD_AUTH))
    assert c.status == OK and c.detail.endswith("secrets.toml, 2 role entries")


def test_signin_with_a_provider_table(tmp_path, no_accounts):
    text = """[auth]
redirect_uri = "https://aq.bureau.example/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef"
[auth.bureau]
client_id = "regionair"
client_secret = "s3cr3t-value"
server_metadata_url = "https://sso.bureau.example/.well-known/openid-configuration"
"""
    assert doctor.check_signin(_secrets(tmp_path, text)).status == OK


def test_signin_off_fails_unless_demo_allowed(tmp_path, no_accounts):
    c = doctor.check_signin(tmp_path / "absent.toml")
    assert c.status == FAIL and "every visitor has the role 'admin'" in c.detail
    assert "python -m regionair user add NAME --role admin" in c.fix
    assert doctor.check_signin(tmp_path / "absent.toml", allow_demo=True).status == OK


@pytest.mark.parametrize(("text", "detail"), [
    ('[auth]\nredirect_uri = "https://x/oauth2callback\n', "does not parse: "),
    (GOOD_AUTH.replace("[auth]", "[auht]"), "has a section [auht], not [auth]: as written, sign-in is off"),
    (GOOD_AUTH.replace("client_secret =", "client_secert ="),
     "unknown key 'client_secert' in [auth] (did you mean 'client_secret'?); [auth] has no client_secret"),
    (GOOD_AUTH.replace('cookie_secret = "0123456789abcdef0123456789abcdef"\n', ""), "[auth] has no cookie_secret"),
    (GOOD_AUTH.replace("/oauth2callback", "/callback"), "must end in /oauth2callback"),
    (GOOD_AUTH.replace("https://sso.", "http://sso."), "server_metadata_url must be an https:// address"),
    (GOOD_AUTH.replace('"s3cr3t-value"', '"..."'), "client_secret still holds the example's placeholder"),
    (GOOD_AUTH.replace('= "admin"', '= "superuser"'), "unknown role in 'admin@bureau.example' = 'superuser'"),
    ('auth = "on"\n', "[auth] is not a section"),
], ids=["syntax", "section-typo", "key-typo", "no-cookie-secret", "redirect", "http-metadata", "placeholder",
        "unknown-role", "not-a-table"])
def test_signin_mistakes(tmp_path, no_accounts, text, detail):
    c = doctor.check_signin(_secrets(tmp_path, text))
    assert c.status == FAIL
    assert detail in c.detail, c.detail
    assert c.fix


def test_signin_syntax_error_names_the_line(tmp_path, no_accounts):
    c = doctor.check_signin(_secrets(tmp_path, '[auth]\nclient_id = "a"\nredirect_uri = "https://x/oauth2callback\n'))
    assert c.status == FAIL and "line 3" in c.detail


def test_signin_local_accounts(tmp_path, no_accounts):
    from regionair.accounts.auth import AccountFile

    accounts = AccountFile(tmp_path / "accounts.json")
    accounts.add("duty", "a-long-password-1", role="admin")
    accounts.add("viewer1", "a-long-password-2", role="viewer")
    c = doctor.check_signin(tmp_path / "absent.toml")
    assert c.status == OK and c.detail == f"local accounts in {accounts.path}: 2 (1 admin)"
    os.chmod(accounts.path, 0o644)
    c = doctor.check_signin(tmp_path / "absent.toml")
    assert c.status == FAIL and "readable by others (mode 644)" in c.detail and c.fix == f"chmod 600 {accounts.path}"


def test_signin_local_without_accounts(tmp_path, no_accounts, monkeypatch):
    monkeypatch.setenv("REGIONAIR_AUTH", "local")
    c = doctor.check_signin(tmp_path / "absent.toml")
    assert c.status == FAIL and "holds no account" in c.detail


# ------------------------------------------------------------------------------------------------ command


def test_cli_exit_1_and_one_line_per_check(tmp_path):
    env = dict(os.environ, BROWSER_PATH=str(tmp_path / "no" / "chromium"),
               REGIONAIR_ACCOUNTS=str(tmp_path / "accounts.json"))
    env.pop("REGIONAIR_CHROMIUM", None)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "regionair", "doctor", "--offline", "--timeout", "5",
                           "--store", str(tmp_path / "store"), "--secrets", str(tmp_path / "none.toml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split()[0] + " " + ln.split()[1] for ln in lines] == [
        "FAIL chromium:", "SKIP chart", "OK CJK", "FAIL store:", "SKIP sources:", "FAIL sign-in:"]
    assert "fix: make system" in lines[0] or "fix: `make system`" in lines[0]
    assert proc.stderr.strip().endswith("1 OK, 2 skipped, 3 failed; to fix: chromium, store, sign-in")
    assert time.monotonic() - t0 < 60


def test_cli_exit_0_when_everything_is_in_place(tmp_path, sample_store, no_accounts):
    from regionair.cli import main
    from regionair.render import bundle

    if bundle.find_chromium() is None:
        pytest.skip("needs the system Chromium (make system)")
    code = main(["doctor", "--offline", "--store", str(sample_store), "--secrets", str(_secrets(tmp_path, GOOD_AUTH))])
    assert code == 0


def test_timeout_is_bounded():
    from regionair.cli import build_parser

    for bad in ("0", "-1", "601", "nan", "soon"):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["doctor", "--timeout", bad])
        assert exc.value.code == 2
