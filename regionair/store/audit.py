"""Audit log: who did what, when — uploads, deletions, source changes, alert-rule changes, exports,
user management, sign-in. Stored in the store's ``audit`` record table (append-only), viewable by admins.

Secrets never reach the log: every ``detail`` passes through :func:`redact` (``token=…``, ``key=…``,
``password=…``, URL credentials, and the values of secret-looking environment variables).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pandas as pd

from regionair.errors import InputError

__all__ = ["ACTIONS", "TABLE", "events", "record", "redact"]

TABLE = "audit"
#: The vocabulary of audited actions.
ACTIONS = frozenset({
    "upload", "delete", "source_change", "alert_rule_change", "export", "briefing", "decision_log",
    "user_add", "user_passwd", "user_role", "user_remove", "login", "login_failed", "logout",
})
_SECRET_KV = re.compile(r"(?i)\b(token|api[_-]?key|apikey|key|access_token|secret|password|passwd|pwd|webhook[_-]?key)"
                        r"(\s*[=:]\s*)([^\s&;,'\"]+)")
_URL_CRED = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^@\s/]+)@")
_SECRET_ENV = re.compile(r"(?i)(token|secret|password|passwd|api_?key|webhook|smtp)")
MAX_DETAIL = 2000


def redact(text) -> str:
    """``text`` with secrets replaced by ``***`` (key=value pairs, URL passwords, secret env values)."""
    s = "" if text is None else str(text)
    s = _SECRET_KV.sub(lambda m: f"{m.group(1)}{m.group(2)}***", s)
    s = _URL_CRED.sub(lambda m: f"{m.group(1)}:***@", s)
    for name, value in os.environ.items():
        if value and len(value) >= 6 and _SECRET_ENV.search(name) and value in s:
            s = s.replace(value, "***")
    return s


def record(store, *, who: str, action: str, detail: str = "", target: str = "") -> int:
    """Append one audit event.

    Parameters
    ----------
    store : regionair.store.Store
    who : str
        User name (``local:<name>``, an OIDC e-mail, ``cli:<os user>``, ``demo``).
    action : str
        One of :data:`ACTIONS`.
    detail, target : str
        What exactly (file name and rows, rule id, export name …); secrets are redacted.

    Returns
    -------
    int
        The store's manifest version after the append.

    Raises
    ------
    InputError
        Unknown action.
    StoreError
        The store cannot be written (read-only, disk full).
    """
    if action not in ACTIONS:
        raise InputError(f"audit action {action!r} unknown; valid: {', '.join(sorted(ACTIONS))}", column="action")
    row = {
        "time": pd.Timestamp(datetime.now(UTC)),
        "who": redact(who)[:200],
        "action": action,
        "target": redact(target)[:500],
        "detail": redact(detail)[:MAX_DETAIL],
    }
    return store.append_records(TABLE, pd.DataFrame([row]))


def events(store, *, action: str | None = None, who: str | None = None) -> pd.DataFrame:
    """Audit events, newest first: ``time`` (Beijing), ``who``, ``action``, ``target``, ``detail``."""
    df = store.records(TABLE)
    cols = ["time", "who", "action", "target", "detail"]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
    df = df[[c for c in cols if c in df.columns]].copy()
    df["time"] = pd.to_datetime(df["time"], utc=True).dt.tz_convert("Asia/Shanghai")
    if action is not None:
        df = df[df["action"] == action]
    if who is not None:
        df = df[df["who"] == who]
    return df.sort_values("time", ascending=False, kind="stable").reset_index(drop=True)
