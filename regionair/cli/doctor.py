"""``python -m regionair doctor``: does this machine have what RegionAir needs? One line per check, with the fix.

Checks (each with a deadline; none waits longer than ``--timeout`` seconds):

``chromium``      a Chromium/Chrome executable is found (:func:`regionair.render.bundle.find_chromium`) and starts
                  headless: it loads a small page and prints it back (PDF briefings, chart images);
``chart images``  kaleido draws a PNG with a Chinese title through that Chromium (export bundles, DOCX/HTML
                  figures);
``CJK fonts``     ``fc-list :lang=zh`` lists fonts with Chinese glyphs (Noto Sans CJK SC first in charts);
``store``         the store (``--store`` / ``REGIONAIR_STORE`` / ``data/store``) opens, answers a query, and
                  a file can be created in it (ingest, audit log);
``source …``      each network source answers (any HTTP answer counts; 404 for an hour not yet published
                  too) — skipped with ``--offline``;
``sign-in``       ``.streamlit/secrets.toml`` parses; an ``[auth]`` section has every key Streamlit's
                  OpenID Connect needs and no misspelt one; roles are known ones; or local accounts exist.
                  Sign-in off (every visitor is admin) fails unless ``--allow-demo``.

Output: ``OK``, ``FAIL`` or ``SKIP``, the check, what was found, and for a failure ``fix: …``.
Exit status: 0 when no check failed (skipped ones do not count), 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import math
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from shutil import which

import pandas as pd

from regionair.accounts.auth import ROLES, AccountFile
from regionair.core.nomenclature import TZ
from regionair.errors import NotPublished, RegionairError, SourceError
from regionair.render.bundle import (
    CHROMIUM_FIX,
    RenderError,
    find_chromium,
    kill_tree,
    missing_chromium_message,
    probe_image,
)
from regionair.sources import cnemc_http, openmeteo, quotsoft
from regionair.sources.http import HttpClient, redact_url
from regionair.store import ENV_VAR, Store, resolve_store_path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 20.0
OK, FAIL, SKIP = "OK", "FAIL", "SKIP"
SYSTEM_FIX = "`make system` (apt-get install chromium fonts-noto-cjk)"


@dataclass
class Check:
    """One check's result: ``status`` is OK, FAIL or SKIP."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        s = f"{self.status:<4} {self.name}: {self.detail}"
        return s + (f" — fix: {self.fix}" if self.status == FAIL and self.fix else "")


def _run(cmd: list[str], timeout: float) -> tuple[int | None, str, float]:
    """Run ``cmd`` in its own session with stdout+stderr to a file; kill its whole tree at ``timeout`` s.

    Returns (exit status or None when it was killed, output, seconds).
    """

    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603
                                    start_new_session=True, close_fds=True)
        except OSError as exc:
            return -1, f"{type(exc).__name__}: {exc}", time.monotonic() - t0
        try:
            code: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait(10)
            code = None
        out.seek(0)
        text = out.read()[-4000:].decode("utf-8", "replace")
    return code, text, time.monotonic() - t0


# ------------------------------------------------------------------------------------------------
# the checks
# ------------------------------------------------------------------------------------------------


def check_chromium(timeout: float) -> Check:

    exe = find_chromium()
    if exe is None:
        return Check("chromium", FAIL, missing_chromium_message("PDF briefings and chart images").split(". Fix:")[0],
                     CHROMIUM_FIX.removeprefix("Fix: "))
    with tempfile.TemporaryDirectory(prefix="regionair-doctor-") as tmp:
        marker = "regionair-doctor-ok"
        code, out, secs = _run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                "--disable-sync", f"--user-data-dir={tmp}/profile", "--dump-dom",
                                f"data:text/html,<p>{marker}</p>"], timeout)
    if code is None:
        return Check("chromium", FAIL, f"{exe} did not answer within {timeout:.0f} s (it hangs); it was stopped",
                     f"reinstall it: {SYSTEM_FIX}, or set REGIONAIR_CHROMIUM to a working browser")
    if marker not in out:
        tail = " ".join(out.split())[-300:]
        return Check("chromium", FAIL, f"{exe} does not start headless (exit {code}): {tail}",
                     f"reinstall it: {SYSTEM_FIX}, or set REGIONAIR_CHROMIUM to a working browser")
    return Check("chromium", OK, f"{exe} started headless and answered in {secs:.1f} s")


def check_images(timeout: float, chromium_ok: bool) -> Check:
    if not chromium_ok:
        return Check("chart images", SKIP, "needs a working Chromium (see above)")

    t0 = time.monotonic()
    try:
        png = probe_image(timeout)
    except RenderError as exc:
        return Check("chart images", FAIL, str(exc).split(" Fix:")[0], SYSTEM_FIX)
    return Check("chart images", OK, f"kaleido drew a {len(png) // 1024} kB PNG in {time.monotonic() - t0:.1f} s")


def check_fonts(timeout: float) -> Check:
    fix = "apt-get install fonts-noto-cjk (part of `make system`)"

    if which("fc-list") is None:
        return Check("CJK fonts", FAIL, "fc-list (fontconfig) is not installed, so Chromium finds no fonts",
                     "apt-get install fontconfig fonts-noto-cjk (part of `make system`)")
    code, out, _ = _run(["fc-list", ":lang=zh", "family"], timeout)
    if code is None:
        return Check("CJK fonts", FAIL, f"fc-list did not answer within {timeout:.0f} s", "fc-cache -f, then " + fix)
    families = sorted({f.strip() for line in out.splitlines() for f in line.split(",") if f.strip()})
    if code != 0 or not families:
        return Check("CJK fonts", FAIL, "no font with Chinese glyphs: charts and PDFs would show boxes", fix)
    if not any("Noto Sans CJK SC" in f for f in families):
        return Check("CJK fonts", OK, f"{len(families)} families with Chinese glyphs ({', '.join(families[:3])}…); "
                     "Noto Sans CJK SC, the charts' first choice, is not among them")
    return Check("CJK fonts", OK, f"{len(families)} families with Chinese glyphs, including Noto Sans CJK SC")


def check_store(path: str | None) -> Check:

    root = resolve_store_path(path)
    where = f"--store DIR or {ENV_VAR}"
    try:
        store = Store(root, create=False)
        snap = store.snapshot()
        fresh = store.latest_time(by="source")
    except RegionairError as exc:
        return Check("store", FAIL, str(exc) if str(root) in str(exc) else f"{root}: {exc}", f"ingest data (python -m regionair ingest …) or point {where} "
                     "at the store")
    except Exception as exc:  # noqa: BLE001 - a damaged file surfaces as a DuckDB/Arrow error
        return Check("store", FAIL, f"{root} cannot be read: {type(exc).__name__}: {exc}",
                     "restore the damaged file from a backup, or re-ingest (python -m regionair ingest … --refresh)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".doctor.", dir=root)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return Check("store", FAIL, f"{root} can be read but not written ({exc.strerror or exc}): ingest and the "
                     "audit log would fail", f"make it writable for this user (chown/chmod, or remount read-write), "
                     f"or point {where} elsewhere")
    latest = f", latest hour {fresh['time'].max():%Y-%m-%d %H:%M}" if len(fresh) else ", no measurements yet"
    return Check("store", OK, f"{root} readable and writable (version {snap.version}{latest})")


def _source_urls() -> list[tuple[str, str]]:


    yesterday = (pd.Timestamp.now(tz=TZ) - pd.Timedelta(days=1)).floor("D")
    return [("CNEMC archive", cnemc_http.archive_url(yesterday + pd.Timedelta(hours=12))),
            ("quotsoft", quotsoft.daily_url(yesterday.date())),
            ("Open-Meteo", openmeteo.AIR_QUALITY_META_URL)]


#: (name, URL) of each network source checked; a function so that the URLs follow the environment.
SOURCE_URLS: Callable[[], list[tuple[str, str]]] = _source_urls


def check_sources(timeout: float, offline: bool) -> list[Check]:
    if offline:
        return [Check("sources", SKIP, "--offline: network sources not contacted")]

    out = []
    for name, url in SOURCE_URLS():
        shown = redact_url(url)
        client = HttpClient(base_timeout=(min(5.0, timeout), timeout), retries=0, min_interval=0, deadline=timeout)
        t0 = time.monotonic()
        fix = ("check the network and proxy (HTTPS_PROXY), or set the source's base URL to a mirror "
               "(REGIONAIR_CNEMC_BASE_URL, REGIONAIR_QUOTSOFT_BASE_URL); --offline skips this check")
        try:
            body = client.get(url)
            out.append(Check(f"source {name}", OK, f"{shown} answered {len(body)} bytes in {time.monotonic() - t0:.1f} s"))
        except NotPublished:
            out.append(Check(f"source {name}", OK, f"{shown} answered (HTTP 404: not published yet) in "
                             f"{time.monotonic() - t0:.1f} s"))
        except SourceError as exc:
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                out.append(Check(f"source {name}", OK, f"{shown} answered HTTP {exc.status}"))
            else:
                out.append(Check(f"source {name}", FAIL, str(exc), fix))
        finally:
            client.close()
    return out


#: Keys of Streamlit's ``[auth]`` section (st.login) and of each ``[auth.<provider>]`` table.
AUTH_KEYS = {"redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url", "client_kwargs",
             "expose_tokens", "cookie_max_age", "provider"}
PROVIDER_KEYS = {"client_id", "client_secret", "server_metadata_url", "client_kwargs"}
#: Values copied unchanged from .streamlit/secrets.toml.example.
PLACEHOLDERS = {"...", "a-long-random-string", "https://aq.example.gov.cn/oauth2callback",
                "https://sso.example.gov.cn/.well-known/openid-configuration"}


def _auth_problems(auth) -> list[str]:
    if not isinstance(auth, dict):
        return ["[auth] is not a section (a table of keys)"]
    bad = []
    for key, value in auth.items():
        if not isinstance(value, dict) and key not in AUTH_KEYS:
            near = difflib.get_close_matches(key, sorted(AUTH_KEYS), n=1, cutoff=0.6)
            bad.append(f"unknown key {key!r} in [auth]" + (f" (did you mean {near[0]!r}?)" if near else ""))
    for key in ("redirect_uri", "cookie_secret"):
        if not str(auth.get(key, "")).strip():
            bad.append(f"[auth] has no {key}")
    if str(auth.get("redirect_uri", "")).strip() and not str(auth["redirect_uri"]).rstrip("/").endswith("/oauth2callback"):
        bad.append(f"redirect_uri {auth['redirect_uri']!r} must end in /oauth2callback")
    secret = str(auth.get("cookie_secret", ""))
    if secret and len(secret) < 16:
        bad.append("cookie_secret is shorter than 16 characters")
    providers = {k: v for k, v in auth.items() if isinstance(v, dict)}
    tables = providers.items() if providers else [("auth", auth)]
    for name, table in tables:
        label = "[auth]" if name == "auth" else f"[auth.{name}]"
        for key in ("client_id", "client_secret", "server_metadata_url"):
            if not str(table.get(key, "")).strip():
                bad.append(f"{label} has no {key}")
        if name != "auth":
            for key in table:
                if key not in PROVIDER_KEYS:
                    near = difflib.get_close_matches(key, sorted(PROVIDER_KEYS), n=1, cutoff=0.6)
                    bad.append(f"unknown key {key!r} in {label}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        url = str(table.get("server_metadata_url", ""))
        if url and not (url.startswith("https://") or url.startswith("http://localhost")):
            bad.append(f"{label} server_metadata_url must be an https:// address")
    for table in [auth, *providers.values()]:
        for key, value in table.items():
            if isinstance(value, str) and value.strip() in PLACEHOLDERS:
                bad.append(f"{key} still holds the example's placeholder")
    return bad


def check_signin(secrets: str | os.PathLike | None, allow_demo: bool = False) -> Check:


    path = Path(secrets) if secrets else ROOT / ".streamlit" / "secrets.toml"
    example = ".streamlit/secrets.toml.example"
    doc: dict = {}
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return Check("sign-in", FAIL, f"{path} does not parse: {exc}",
                         f"correct the line named (TOML syntax; see {example})")
    near = [k for k in doc if k != "auth" and difflib.get_close_matches(k.lower(), ["auth"], cutoff=0.6)]
    if near and "auth" not in doc:
        return Check("sign-in", FAIL, f"{path} has a section [{near[0]}], not [auth]: as written, sign-in is off",
                     f"rename the section to [auth] (see {example})")
    roles = (doc.get("regionair") or {}).get("roles") if isinstance(doc.get("regionair"), dict) else None
    if roles is not None:
        wrong = [f"{k!r} = {v!r}" for k, v in (roles.items() if isinstance(roles, dict) else []) if v not in ROLES]
        if not isinstance(roles, dict) or wrong:
            what = ", ".join(wrong) if wrong else repr(roles)
            return Check("sign-in", FAIL, f"{path} [regionair.roles]: unknown role in {what}",
                         f"use one of {', '.join(ROLES)}")
    if "auth" in doc:
        bad = _auth_problems(doc["auth"])
        if bad:
            return Check("sign-in", FAIL, f"{path} [auth]: " + "; ".join(bad),
                         f"complete [auth] as in {example} (Streamlit's st.login: redirect_uri, cookie_secret, "
                         "client_id, client_secret, server_metadata_url)")
        return Check("sign-in", OK, f"OpenID Connect configured in {path}"
                     + (f", {len(roles)} role entries" if roles else ", every user a viewer (no [regionair.roles])"))
    accounts = AccountFile()
    if accounts.exists or os.environ.get("REGIONAIR_AUTH", "").strip().lower() == "local":
        try:
            users = accounts.load()
        except RegionairError as exc:
            return Check("sign-in", FAIL, str(exc), "restore the account file from a backup")
        if not users:
            return Check("sign-in", FAIL, f"local sign-in, but {accounts.path} holds no account",
                         "python -m regionair user add NAME --role admin")
        with contextlib.suppress(OSError):
            mode = accounts.path.stat().st_mode & 0o777
            if mode & 0o077:
                return Check("sign-in", FAIL, f"{accounts.path} is readable by others (mode {mode:o})",
                             f"chmod 600 {accounts.path}")
        admins = sum(1 for u in users.values() if u.get("role") == "admin")
        return Check("sign-in", OK, f"local accounts in {accounts.path}: {len(users)} ({admins} admin)")
    role = os.environ.get("REGIONAIR_DEMO_ROLE", "admin")
    detail = f"sign-in is off: nobody signs in and every visitor has the role {role!r} (local demo)"
    if allow_demo:
        return Check("sign-in", OK, detail + "; allowed by --allow-demo")
    return Check("sign-in", FAIL, detail, f"add an [auth] section to {path} (see {example}) or local accounts "
                 "(python -m regionair user add NAME --role admin); --allow-demo accepts the demo")


def run_checks(*, store: str | None = None, secrets=None, timeout: float = DEFAULT_TIMEOUT, offline: bool = False,
               allow_demo: bool = False, emit: Callable[[Check], None] | None = None) -> list[Check]:
    """Run every check in order; ``emit`` receives each result as soon as it is known."""
    results: list[Check] = []

    def add(c: Check) -> Check:
        results.append(c)
        if emit:
            emit(c)
        return c

    chromium = add(check_chromium(timeout))
    add(check_images(timeout, chromium.status == OK))
    add(check_fonts(timeout))
    add(check_store(store))
    for c in check_sources(timeout, offline):
        add(c)
    add(check_signin(secrets, allow_demo))
    return results


def cmd_doctor(args) -> int:
    results = run_checks(store=args.store, secrets=args.secrets, timeout=args.timeout, offline=args.offline,
                         allow_demo=args.allow_demo, emit=lambda c: print(c.line(), flush=True))
    failed = [c.name for c in results if c.status == FAIL]
    skipped = sum(c.status == SKIP for c in results)
    print(f"{len(results) - len(failed) - skipped} OK, {skipped} skipped, {len(failed)} failed"
          + (f"; to fix: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def _seconds(text: str) -> float:

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(v) or not 1 <= v <= 600:
        raise argparse.ArgumentTypeError(f"{text} s: use 1 to 600 seconds")
    return v


def add_commands(sub) -> None:
    """Register ``doctor`` with the ``python -m regionair`` parser."""
    d = sub.add_parser("doctor", help="check Chromium, CJK fonts, the store, the sources and sign-in; say what to fix",
                       description="One line per check (OK/FAIL/SKIP, what was found, the fix). Exit 0 when nothing "
                                   "failed, 1 otherwise.")
    d.add_argument("--store", help="store folder (default $REGIONAIR_STORE or data/store)")
    d.add_argument("--secrets", help="secrets file (default .streamlit/secrets.toml)")
    d.add_argument("--offline", action="store_true", help="do not contact the network sources")
    d.add_argument("--allow-demo", action="store_true", help="sign-in off (local demo) is not a failure")
    d.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT,
                   help=f"deadline of each check [s] (default {DEFAULT_TIMEOUT:g})")
    d.set_defaults(func=cmd_doctor)
