"""Sign-in in the app: mode detection, the sidebar block, ``require_role`` for pages, the admin audit view.

Usage (app.py draws the sidebar once; a page guards its privileged parts)::

    from regionair.ui import auth
    auth.sidebar()                       # app.py, instead of the fixed "sign-in off" caption
    if auth.require_role("admin"):       # a page: stops with a message for lower roles
        ...uploads...

Modes: ``oidc`` when ``st.secrets`` has an ``[auth]`` section (Streamlit's ``st.login``), ``local``
when ``$REGIONAIR_AUTH=local`` or an account file exists, else ``off`` (local demo: everybody is
``$REGIONAIR_DEMO_ROLE``, default ``admin``, and the sidebar says that sign-in is off). Names
shown in the sidebar go through ``st.text``/``st.caption`` without HTML.
"""

from __future__ import annotations

import os

import streamlit as st

from regionair.accounts.auth import ROLES, AccountFile, User, has_role
from regionair.store import audit
from regionair.ui import table

_TEXT = {
    "off": ("未启用登录（本地演示模式）：所有人可查看与导出。", "Sign-in is off (local demo): everyone can view and export."),
    "signed_in": ("已登录：{name}（{role}）", "Signed in: {name} ({role})"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "user": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误。", "Wrong user name or password."),
    "need_role": ("此功能需要“{role}”权限（当前：{have}）。", "This needs the '{role}' role (you have: {have})."),
    "need_login": ("请先登录。", "Please sign in first."),
    "audit": ("审计日志", "Audit log"),
}
_KEY = "_regionair_user"


def _t(key: str, lang: str | None = None, **kw) -> str:
    # the sidebar is drawn before the filters: on a first load the language is still only in the URL
    lang = lang or st.session_state.get("lang") or st.query_params.get("lang") or "zh"
    zh, en = _TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


def _secrets_section(name: str):
    try:
        return st.secrets.get(name)
    except (FileNotFoundError, KeyError, AttributeError, OSError):  # no secrets.toml at all
        return None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not take the app down
        return None


def mode() -> str:
    """``"oidc"``, ``"local"`` or ``"off"``."""
    if _secrets_section("auth"):
        return "oidc"
    if os.environ.get("REGIONAIR_AUTH", "").strip().lower() == "local" or AccountFile().exists:
        return "local"
    return "off"


def _oidc_role(email: str) -> str:
    roles = (_secrets_section("regionair") or {}).get("roles", {}) or {}
    role = roles.get(email) or roles.get("*") or "viewer"
    return role if role in ROLES else "viewer"


def current_user() -> User | None:
    """The signed-in user, the demo user when sign-in is off, or ``None``."""
    m = mode()
    if m == "off":
        role = os.environ.get("REGIONAIR_DEMO_ROLE", "admin")
        return User("demo", role if role in ROLES else "viewer", "off")
    if m == "oidc":
        user = getattr(st, "user", None)
        if user is not None and getattr(user, "is_logged_in", False):
            email = str(user.get("email") or user.get("sub") or "")
            return User(email, _oidc_role(email), "oidc")
        return None
    u = st.session_state.get(_KEY)
    return u if isinstance(u, User) else None


def _store():
    from regionair.ui.data import get_store

    return get_store()


def _audit(who: str, action: str, detail: str = "") -> None:
    from regionair.errors import StoreError

    try:
        audit.record(_store(), who=who, action=action, detail=detail)
    except StoreError:  # a read-only store must not block sign-in; the page shows store errors elsewhere
        pass


def sidebar() -> User | None:
    """Draw the sign-in block in the sidebar and return the current user."""
    m = mode()
    sb = st.sidebar
    if m == "off":
        sb.caption(_t("off"))
        return current_user()
    user = current_user()
    if user is not None:
        sb.caption(_t("signed_in", name=user.name, role=user.role))
        if sb.button(_t("sign_out"), key="_regionair_logout"):
            _audit(f"{user.source}:{user.name}", "logout")
            if m == "oidc":
                st.logout()
            st.session_state.pop(_KEY, None)
            st.rerun()
        return user
    if m == "oidc":
        if sb.button(_t("sign_in"), key="_regionair_login"):
            st.login()
        return None
    with sb.form("_regionair_login_form", clear_on_submit=True):
        name = st.text_input(_t("user"), key="_regionair_login_user")
        pw = st.text_input(_t("password"), type="password", key="_regionair_login_pw")
        ok = st.form_submit_button(_t("sign_in"))
    if ok:
        u = AccountFile().authenticate(name.strip(), pw)
        if u is None:
            _audit(f"local:{name.strip()[:64]}", "login_failed")
            sb.error(_t("bad_login"))
        else:
            st.session_state[_KEY] = u
            _audit(f"local:{u.name}", "login")
            st.rerun()
    return None


def require_role(role: str, *, stop: bool = True) -> bool:
    """``True`` if the current user has ``role`` or a higher one; else show why and (by default) stop the page."""
    user = current_user()
    if user is not None and has_role(user.role, role):
        return True
    if user is None:
        st.warning(_t("need_login"), icon=":material/lock:")
    else:
        st.warning(_t("need_role", role=role, have=user.role), icon=":material/lock:")
    if stop:
        st.stop()
    return False


def record(action: str, detail: str = "", target: str = "") -> None:
    """Audit an action of the current user (uploads, exports, rule changes …) from a page."""
    user = current_user()
    who = f"{user.source}:{user.name}" if user else "anonymous"
    from regionair.errors import StoreError

    try:
        audit.record(_store(), who=who, action=action, detail=detail, target=target)
    except StoreError as exc:
        st.warning(str(exc))


def audit_view() -> None:
    """The audit log as a table, for admins only (others see why not)."""
    if not require_role("admin", stop=False):
        return
    st.subheader(_t("audit"))
    table(audit.events(_store()), None, st.session_state.get("lang") or "zh")
