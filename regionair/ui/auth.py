"""Sign-in in the app: the settings of each run (failing closed), the sidebar block, ``require_role`` and
``allowed`` for pages, the admin audit view.

Usage (app.py draws the sidebar once; a page guards its privileged parts)::

    from regionair.ui import auth
    user = auth.sidebar()                # app.py: the sign-in block
    auth.gate(user)                      # app.py: stops for visitors not signed in; the demo says so
    if auth.require_role("admin"):       # a page: stops with a message for lower roles
        ...uploads...
    if auth.allowed("export"):           # a page: export buttons only for analysts and admins
        ...download buttons...

Every call re-reads what decides sign-in (the secrets files Streamlit reads, ``$REGIONAIR_AUTH``, the
account file — each re-parsed only when it changed), so a removed account, a changed role or a changed
password takes effect at the user's next page run. A configuration that is wrong in any way stops the
page with ``st.error`` naming the file, line and fix (:func:`regionair.accounts.auth.signin_settings`); the demo
(sign-in off, everybody ``$REGIONAIR_DEMO_ROLE``) runs only when nothing at all is configured, and
says so on the page. Names shown go through ``st.caption`` as escaped text.
"""

from __future__ import annotations

import math
import uuid

import streamlit as st

from regionair.accounts.auth import (
    FREE_FAILURES,
    THROTTLE,
    AccountFile,
    SigninSettings,
    User,
    audit_who,
    has_role,
    oidc_role,
    read_secrets,
    signin_settings,
)
from regionair.core.i18n import t
from regionair.errors import ConfigError, RegionairError, StoreError
from regionair.store import audit
from regionair.ui.data import get_store
from regionair.ui.text import md

_KEY = "_regionair_user"
_REVOKED = "_regionair_revoked"
_SID = "_regionair_sid"
#: Sign-in configurations seen in this server process: (kind, where). If one of them disappears (the account
#: file deleted, [auth] removed) the app stops instead of silently turning into the everybody-is-admin demo.
_SEEN: set[tuple[str, str]] = set()


def _lang() -> str:
    # the sidebar is drawn before the filters: on a first load the language is still only in the URL
    lang = st.session_state.get("lang") or st.query_params.get("lang") or "zh"
    return lang if lang in ("zh", "en") else "zh"


def _t(key: str, **kw) -> str:
    return t(f"auth_{key}", _lang(), **kw)


def _role_name(role: str | None) -> str:
    return _t(f"role_{role}") if role in ("viewer", "analyst", "admin") else "—"


def _secret_paths() -> list[str]:
    from streamlit import config  # Streamlit runtime internals, only inside a running app

    return list(config.get_option("secrets.files") or [])


def _stop(exc: RegionairError) -> None:
    problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
    st.error(_t("config_error") + "\n\n" + "\n\n".join(f"- {md(p)}" for p in problems), icon=":material/lock:")
    st.stop()


def settings() -> SigninSettings:
    """This run's sign-in settings; a wrong configuration stops the page with its message (never the demo)."""
    paths = _secret_paths()
    try:
        s = signin_settings(read_secrets(paths))
        accounts = str(s.accounts)
        if s.mode == "off":
            gone = [w for kind, w in _SEEN if (kind, w) in (("local", accounts), ("oidc", "|".join(paths)))]
            if gone:
                raise ConfigError(f"sign-in was configured in this server process ({gone[0]}) and its configuration "
                                  "has gone: restore it (an account file, [auth] in the secrets); to run the "
                                  "demo without sign-in, restart the server")
        elif s.mode == "local":
            AccountFile(s.accounts).load()  # an unreadable account file stops the page
            _SEEN.add(("local", accounts))
        else:
            _SEEN.add(("oidc", "|".join(paths)))
    except RegionairError as exc:
        _stop(exc)
        raise  # pragma: no cover - st.stop() raises
    return s


def mode() -> str:
    """``"oidc"``, ``"local"`` or ``"off"`` (stops the page on a configuration error)."""
    return settings().mode


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import (
        get_script_run_ctx,  # Streamlit runtime internals, only inside a running app
    )

    ctx = get_script_run_ctx()
    if ctx is not None and getattr(ctx, "session_id", None):
        return str(ctx.session_id)
    return st.session_state.setdefault(_SID, uuid.uuid4().hex)


def current_user() -> User | None:
    """The signed-in user with the role the account store gives now, the demo user, or ``None``."""
    s = settings()
    if s.mode == "off":
        return User("demo", s.demo_role, "off")
    if s.mode == "oidc":
        user = getattr(st, "user", None)
        if user is not None and getattr(user, "is_logged_in", False):
            email = str(user.get("email") or user.get("sub") or "")
            role = oidc_role(s, email)
            return User(email, role, "oidc") if role else None
        return None
    held = st.session_state.get(_KEY)
    if not isinstance(held, User):
        return None
    try:
        now = AccountFile(s.accounts).account(held.name)
    except RegionairError as exc:
        _stop(exc)
        raise  # pragma: no cover
    if now is None or now.stamp != held.stamp:  # removed, role made invalid, or password changed: signed out
        st.session_state.pop(_KEY, None)
        st.session_state[_REVOKED] = True
        _audit(f"local:{held.name}", "session_revoked",
               "account removed" if now is None else "password changed since sign-in")
        return None
    if now.role != held.role:
        st.session_state[_KEY] = now
    return now


def allowed(permission: str) -> bool:
    """``True`` when the current user may ``permission`` (``export``, ``briefing``, ``upload`` …), without a message."""
    user = current_user()
    return user is not None and user.can(permission)


def _store():

    return get_store()


def _audit(who: str, action: str, detail: str = "") -> None:
    try:
        audit.record(_store(), who=who, action=action, detail=detail)
    except StoreError:  # a read-only store must not block sign-in; the page shows store errors elsewhere
        pass


def sidebar() -> User | None:
    """Draw the sign-in block in the sidebar and return the current user."""
    s = settings()
    sb = st.sidebar
    if s.mode == "off":
        sb.caption(_t("off", role=_role_name(s.demo_role)))
        return current_user()
    user = current_user()
    if st.session_state.pop(_REVOKED, False):
        sb.warning(_t("revoked"), icon=":material/lock:")
    if user is not None:
        sb.caption(_t("signed_in", name=md(user.name), role=_role_name(user.role)))
        if sb.button(_t("sign_out"), key="_regionair_logout"):
            _audit(f"{user.source}:{user.name}", "logout")
            st.session_state.pop(_KEY, None)
            if s.mode == "oidc":
                st.logout()
            st.rerun()
        return user
    if s.mode == "oidc":
        return _oidc_sign_in(s)
    return _local_sign_in(s)


def _oidc_sign_in(s: SigninSettings) -> None:
    sb = st.sidebar
    info = getattr(st, "user", None)
    if info is not None and getattr(info, "is_logged_in", False):  # signed in at the provider, "none" here
        sb.warning(_t("no_access", name=md(info.get("email") or info.get("sub") or "")), icon=":material/lock:")
        if sb.button(_t("sign_out"), key="_regionair_logout"):
            st.logout()
        return None
    if not s.providers:
        if sb.button(_t("sign_in"), key="_regionair_login"):
            st.login()
    for name in s.providers:
        if sb.button(_t("sign_in_with", provider=md(name)), key=f"_regionair_login_{name}"):
            st.login(name)
    return None


def _local_sign_in(s: SigninSettings) -> None:
    sb = st.sidebar
    accounts = AccountFile(s.accounts)
    if not accounts.load():
        sb.info(_t("no_accounts"))
        return None
    with sb.form("_regionair_login_form", clear_on_submit=True):
        name = st.text_input(_t("user"), key="_regionair_login_user")
        pw = st.text_input(_t("password"), type="password", key="_regionair_login_pw")
        ok = st.form_submit_button(_t("sign_in"))
    if not ok:
        return None
    name = (name or "").strip()
    keys = (THROTTLE.user_key(name), THROTTLE.session_key(_session_id()))
    wait = THROTTLE.wait(*keys)
    if wait > 0:  # locked: no password is checked, nothing more is written (the lock itself was audited)
        sb.error(_t("locked", seconds=math.ceil(wait)), icon=":material/lock:")
        return None
    user = accounts.authenticate(name, pw or "")
    if user is None:
        who = audit_who(name, accounts.known(name))
        lock = THROTTLE.failure(*keys)
        failures = max(THROTTLE.failures(k) for k in keys)
        _audit(who, "login_failed", f"failed sign-in {failures} in a row")
        if lock:
            _audit(who, "login_locked", f"{failures} failed sign-ins (limit {FREE_FAILURES}): user name and "
                                        f"session locked for {lock:.0f} s")
            sb.error(_t("locked", seconds=math.ceil(lock)), icon=":material/lock:")
        else:
            sb.error(_t("bad_login"))
        return None
    THROTTLE.success(*keys)
    st.session_state[_KEY] = user
    _audit(f"local:{user.name}", "login")
    st.rerun()
    return None  # pragma: no cover - st.rerun() raises


def gate(user: User | None) -> None:
    """After :func:`sidebar` in app.py: stop the page for a visitor not signed in; in the demo, say so on the page."""
    s = settings()
    if s.mode == "off":
        st.caption(_t("off_page", role=_role_name(s.demo_role)))
        return
    if user is None:
        st.info(_t("need_login"), icon=":material/lock:")
        st.stop()


def require_role(role: str, *, stop: bool = True) -> bool:
    """``True`` if the current user has ``role`` or a higher one; else show why and (by default) stop the page."""
    user = current_user()
    if user is not None and has_role(user.role, role):
        return True
    if user is None:
        st.warning(_t("need_login"), icon=":material/lock:")
    else:
        st.warning(_t("need_role", role=_role_name(role), have=_role_name(user.role)), icon=":material/lock:")
    if stop:
        st.stop()
    return False


def record(action: str, detail: str = "", target: str = "") -> None:
    """Audit an action of the current user (uploads, exports, rule changes …) from a page."""
    user = current_user()
    who = f"{user.source}:{user.name}" if user else "anonymous"
    try:
        audit.record(_store(), who=who, action=action, detail=detail, target=target)
    except StoreError as exc:
        st.warning(md(exc))


def audit_view() -> None:
    """The audit log as a table, for admins only (others see why not)."""
    if not require_role("admin", stop=False):
        return
    from regionair.ui import table  # ui/__init__ imports this module: the frame helpers come in late

    st.subheader(_t("audit"))
    table(audit.events(_store()), None, _lang())
