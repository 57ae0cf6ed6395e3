"""Sign-in, the pure part: roles, salted password hashes (Argon2id), the local account file, the ``user`` command.

Sign-in is optional. Three modes (chosen by :mod:`regionair.ui.auth`):

``off``
    The default for the local demo: nobody signs in, the sidebar says so.
``oidc``
    Streamlit's built-in OpenID Connect (``st.login``) when ``.streamlit/secrets.toml`` has an
    ``[auth]`` section; roles come from ``[regionair.roles]`` (e-mail → role) in the same file.
``local``
    For offline intranets: an account file (JSON, mode 0600) of user names, roles and Argon2id
    hashes (argon2-cffi; each hash carries its own random salt and cost parameters). Default
    location ``.streamlit/accounts.json``, or ``$REGIONAIR_ACCOUNTS``. Managed with
    ``python -m regionair user add|passwd|remove|list``; passwords are read from the terminal or
    standard input, never from the command line.

Roles (each includes the ones before it)
----------------------------------------
``viewer``   read every page
``analyst``  + exports, briefings, decision log
``admin``    + uploads, sources, alert rules, user list, audit log

References
----------
RFC 9106 (Argon2), OWASP Password Storage Cheat Sheet (Argon2id, per-user salt).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from regionair.errors import InputError, RegionairError

__all__ = [
    "ACCOUNTS_ENV",
    "PERMISSIONS",
    "ROLES",
    "AccountFile",
    "User",
    "add_commands",
    "can",
    "has_role",
    "hash_password",
    "verify_password",
]

ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
#: What each role may do (cumulative).
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "analyst": frozenset({"view", "export", "briefing", "decision_log"}),
    "admin": frozenset({"view", "export", "briefing", "decision_log", "upload", "sources", "alert_rules",
                        "users", "audit"}),
}
ACCOUNTS_ENV = "REGIONAIR_ACCOUNTS"
MIN_PASSWORD = 10
_USER_RE = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")
ROOT = Path(__file__).resolve().parents[2]


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role {role!r} unknown; valid: {', '.join(ROLES)}", column="role")
    return role


def has_role(role: str | None, required: str) -> bool:
    """``True`` when ``role`` is ``required`` or a higher one (viewer < analyst < admin)."""
    _check_role(required)
    return role in ROLES and ROLES.index(role) >= ROLES.index(required)


def can(role: str | None, permission: str) -> bool:
    """``True`` when ``role`` has ``permission`` (see :data:`PERMISSIONS`)."""
    return permission in PERMISSIONS.get(role or "", frozenset())


def _hasher():
    try:
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - argon2-cffi is a pinned requirement
        raise RegionairError("local sign-in needs argon2-cffi: pip install -r requirements.txt") from None
    return PasswordHasher()  # Argon2id, RFC 9106 low-memory profile, 16-byte random salt


def hash_password(password: str) -> str:
    """Argon2id hash (PHC string ``$argon2id$v=19$m=…,t=…,p=…$salt$hash``) of ``password``.

    Raises
    ------
    InputError
        Shorter than :data:`MIN_PASSWORD` characters.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"password too short: use at least {MIN_PASSWORD} characters", column="password")
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """``True`` when ``password`` matches ``stored_hash``; never raises for a wrong or malformed hash."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError, TypeError):
        return False


# A hash to verify against for unknown users, so that "no such user" and "wrong password" take
# the same time (no user enumeration by timing).
_DUMMY: list[str] = []


@dataclass(frozen=True)
class User:
    name: str
    role: str
    source: str = "local"  # "local", "oidc" or "off"

    def can(self, permission: str) -> bool:
        return can(self.role, permission)


def default_accounts_path() -> Path:
    env = os.environ.get(ACCOUNTS_ENV, "").strip()
    return Path(env).expanduser() if env else ROOT / ".streamlit" / "accounts.json"


class AccountFile:
    """The local account file: ``{"format": 1, "users": {name: {"role", "hash", "created", "changed"}}}``.

    Written atomically (temporary file + rename) with mode 0600; never holds a plain password.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_accounts_path()

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, dict]:
        if not self.path.exists():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            users = doc["users"]
            if not isinstance(users, Mapping):
                raise TypeError("users is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RegionairError(f"account file {self.path} is unreadable ({exc}); restore it from a backup") from exc
        return {str(k): dict(v) for k, v in users.items()}

    def _save(self, users: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"format": 1, "users": users}, ensure_ascii=False, indent=1, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".accounts.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _check_name(name: str) -> str:
        if not isinstance(name, str) or not _USER_RE.match(name):
            raise InputError(f"user name {name!r} not allowed: 2–64 of a-z 0-9 _ . @ -, starting with a letter or digit",
                             column="user")
        return name

    def add(self, name: str, password: str, role: str = "viewer") -> None:
        self._check_name(name)
        _check_role(role)
        users = self.load()
        if name in users:
            raise InputError(f"user {name!r} exists; use `regionair user passwd {name}` or `user remove`", column="user")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        users[name] = {"role": role, "hash": hash_password(password), "created": now, "changed": now}
        self._save(users)

    def set_password(self, name: str, password: str) -> None:
        users = self.load()
        if name not in users:
            raise InputError(f"no user {name!r}", column="user")
        users[name]["hash"] = hash_password(password)
        users[name]["changed"] = datetime.now(UTC).isoformat(timespec="seconds")
        self._save(users)

    def set_role(self, name: str, role: str) -> None:
        _check_role(role)
        users = self.load()
        if name not in users:
            raise InputError(f"no user {name!r}", column="user")
        users[name]["role"] = role
        self._save(users)

    def remove(self, name: str) -> None:
        users = self.load()
        if users.pop(name, None) is None:
            raise InputError(f"no user {name!r}", column="user")
        self._save(users)

    def users(self) -> list[dict]:
        """Name, role, created, changed of every user (no hashes)."""
        return [{"user": k, "role": v.get("role"), "created": v.get("created"), "changed": v.get("changed")}
                for k, v in sorted(self.load().items())]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is right, else ``None`` (same work for unknown users)."""
        users = self.load() if isinstance(name, str) else {}
        rec = users.get(name)
        if rec is None:
            if not _DUMMY:
                _DUMMY.append(_hasher().hash("dummy-password-for-timing"))
            verify_password(_DUMMY[0], password if isinstance(password, str) else "")
            return None
        if not isinstance(password, str) or not verify_password(rec.get("hash", ""), password):
            return None
        role = rec.get("role")
        return User(name, role if role in ROLES else "viewer", "local")


# --------------------------------------------------------------------------- CLI


def _read_password(args, confirm: bool = True) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        pw = sys.stdin.readline().rstrip("\n")
    else:  # pragma: no cover - interactive
        pw = getpass.getpass("password: ")
        if confirm and getpass.getpass("again: ") != pw:
            raise InputError("the two passwords differ")
    return pw


def _audit(args, action: str, detail: str) -> None:
    """Record a user-management event in the store's audit log when a store is given/exists."""
    from regionair.store import MANIFEST, Store, resolve_store_path

    root = resolve_store_path(getattr(args, "store", None))
    if not (root / MANIFEST).exists():
        return
    from regionair.store import audit

    audit.record(Store(root), who=f"cli:{getpass.getuser()}", action=action, detail=detail)


def cmd_user(args) -> int:
    accounts = AccountFile(args.accounts)
    if args.action == "list":
        rows = accounts.users()
        if not rows:
            print(f"no users in {accounts.path}")
        for r in rows:
            print(f"{r['user']:<24} {r['role']:<8} created {r['created']} changed {r['changed']}")
        return 0
    if not args.name:
        raise InputError(f"`user {args.action}` needs a user name")
    if args.action == "add":
        accounts.add(args.name, _read_password(args), args.role)
        _audit(args, "user_add", f"{args.name} ({args.role})")
        print(f"user {args.name} added with role {args.role} ({accounts.path})")
    elif args.action == "passwd":
        accounts.set_password(args.name, _read_password(args))
        _audit(args, "user_passwd", args.name)
        print(f"password of {args.name} changed")
    elif args.action == "role":
        accounts.set_role(args.name, args.role)
        _audit(args, "user_role", f"{args.name} → {args.role}")
        print(f"{args.name} is now {args.role}")
    elif args.action == "remove":
        accounts.remove(args.name)
        _audit(args, "user_remove", args.name)
        print(f"user {args.name} removed")
    return 0


def add_commands(sub) -> None:
    """Register ``user add|passwd|role|remove|list`` on the CLI's sub-parsers."""
    u = sub.add_parser("user", help="local sign-in accounts (offline intranets): add, passwd, role, remove, list")
    u.add_argument("action", choices=["add", "passwd", "role", "remove", "list"])
    u.add_argument("name", nargs="?")
    u.add_argument("--role", default="viewer", choices=ROLES)
    u.add_argument("--accounts", help=f"account file (default ${ACCOUNTS_ENV} or .streamlit/accounts.json)")
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    u.add_argument("--store", help="store folder, for the audit log (default $REGIONAIR_STORE or data/store)")
    u.set_defaults(func=cmd_user)
