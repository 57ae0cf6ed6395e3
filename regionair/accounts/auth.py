"""Sign-in, the pure part: roles, salted password hashes (Argon2id), the local account file, the ``user`` command.

Sign-in is optional, and it fails closed. Three modes (chosen by :func:`signin_settings`):

``off``
    The local demo, only when nothing at all is configured for sign-in (no ``[auth]`` or
    ``[regionair]`` section, no account file, no ``$REGIONAIR_AUTH``): nobody signs in, everybody has
    ``$REGIONAIR_DEMO_ROLE`` (default admin) and the page says so. Never a fallback: a secrets file
    that does not parse, an unknown key, a wrong type or a misspelt section is a :class:`ConfigError`
    and the app stops with its message.
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

Failed sign-ins are throttled (:class:`LoginThrottle`: per user name and per session, after
:data:`FREE_FAILURES` failures a lock that doubles with each further failure); unknown user names
never reach the audit log (a password typed into the name field would), only "unknown user".

References
----------
RFC 9106 (Argon2), OWASP Password Storage Cheat Sheet (Argon2id, per-user salt).
"""

from __future__ import annotations

import contextlib
import difflib
import getpass
import hashlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from regionair.errors import ConfigError, InputError, RegionairError
from regionair.store import MANIFEST, Store, audit, resolve_store_path

__all__ = [
    "ACCOUNTS_ENV",
    "PERMISSIONS",
    "ROLES",
    "FREE_FAILURES",
    "AccountFile",
    "LoginThrottle",
    "SigninSettings",
    "User",
    "audit_who",
    "add_commands",
    "can",
    "has_role",
    "hash_password",
    "read_secrets",
    "signin_settings",
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
        from argon2 import PasswordHasher  # argon2-cffi loads its C library only when a password is checked
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
    from argon2.exceptions import (  # argon2-cffi loads its C library only when a password is checked
        InvalidHashError,
        VerificationError,
        VerifyMismatchError,
    )

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
    #: fingerprint of the account record's password hash at sign-in: a changed password ends open sessions
    stamp: str = field(default="", compare=False, repr=False)

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
        """Every account record; re-read whenever the file changed (the app calls this on every page run)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"account file {self.path} cannot be read ({exc.strerror}); fix its permissions") from exc
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with _LOAD_LOCK:
            hit = _LOADED.get(str(self.path))
        if hit is not None and hit[0] == key:
            return {k: dict(v) for k, v in hit[1].items()}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            users = doc["users"]
            if not isinstance(users, Mapping) or not all(isinstance(v, Mapping) for v in users.values()):
                raise TypeError("'users' is not an object of objects")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"account file {self.path}, line {exc.lineno}, column {exc.colno}: {exc.msg}; "
                              "restore it from a backup or re-create the users with `python -m regionair user add`") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"account file {self.path} is unreadable ({exc}); restore it from a backup or "
                              "re-create the users with `python -m regionair user add`") from exc
        users = {str(k): dict(v) for k, v in users.items()}
        with _LOAD_LOCK:
            _LOADED[str(self.path)] = (key, users)
        return {k: dict(v) for k, v in users.items()}

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

    def known(self, name: str) -> bool:
        """``True`` when an account called ``name`` exists (for the audit log: unknown names are not written)."""
        return isinstance(name, str) and name in self.load()

    def account(self, name: str) -> User | None:
        """The account ``name`` as it is now (role, password stamp); ``None`` when removed or its role is invalid.

        The app calls this on every page run for a signed-in user, so a removed account, a changed role or
        a changed password takes effect at that user's next page run.
        """
        rec = self.load().get(name) if isinstance(name, str) else None
        if rec is None or rec.get("role") not in ROLES or not isinstance(rec.get("hash"), str):
            return None  # fail closed: a hand-edited record with an unknown role gives no access, not "viewer"
        return User(name, rec["role"], "local", _stamp(rec["hash"]))

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
        return self.account(name)


def _stamp(stored_hash: str) -> str:
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


_LOAD_LOCK = threading.Lock()
#: account file path → (stat key, users): the app re-checks the file on every run at the cost of one stat
_LOADED: dict[str, tuple[tuple, dict[str, dict]]] = {}


# --------------------------------------------------------------------------- sign-in configuration

#: Keys Streamlit's ``st.login`` reads from ``[auth]`` (streamlit/auth_util.py), with their TOML types.
AUTH_KEYS: dict[str, tuple[type, ...]] = {
    "redirect_uri": (str,), "cookie_secret": (str,), "client_id": (str,), "client_secret": (str,),
    "server_metadata_url": (str,), "client_kwargs": (dict,), "expose_tokens": (str, list),
}
#: Keys of a named provider ``[auth.NAME]``.
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url", "client_kwargs", "expose_tokens")
_PROVIDER_REQUIRED = ("client_id", "client_secret", "server_metadata_url")
#: Keys of RegionAir's own ``[regionair]`` section.
REGIONAIR_KEYS = ("roles",)
#: ``[regionair.roles]`` values: a role, or "none" (signed in at the identity provider, but no access here).
NO_ACCESS = "none"
MIN_COOKIE_SECRET = 32  # characters; the HS256 cookie key (RFC 7518 §3.2: at least 256 bits)
_SECTIONS = ("auth", "regionair")
_EXAMPLE = ".streamlit/secrets.toml.example"
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


@dataclass(frozen=True)
class SecretsDoc:
    """The merged secrets files (later files win per top-level key, as in Streamlit) and where each came from."""

    data: dict
    origin: dict[str, tuple[str, str]] = field(default_factory=dict)  # top-level key → (path, text)
    files: tuple[str, ...] = ()

    def where(self, table: tuple[str, ...], key: str | None = None) -> str:
        """``"<file>, line L, column C"`` of ``[table]`` (or its ``key``), as an editor numbers them."""
        top = table[0] if table else key
        default = (self.files[-1] if self.files else "secrets.toml", "")
        path, text = self.origin.get(top, default) if top else default
        line, col = _locate(text, table, key)
        return f"{path}, line {line}, column {col}" if line else path


def _toml_table(inner: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('"').strip("'").strip() for part in inner.split("."))


_TOML_HEADER = re.compile(r"\s*\[\[?\s*([^\]]*?)\s*\]")
_TOML_KEY = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_\-.*@]+))\s*=""")


def _locate(text: str, table: tuple[str, ...], key: str | None) -> tuple[int, int]:
    """Line and column (1-based) of ``key`` in ``[table]`` of a TOML text, or of the table header; (0, 0) if unseen."""
    target = (*table, key) if key is not None else table
    current: tuple[str, ...] = ()
    header, exact = (0, 0), False
    for n, raw in enumerate(text.splitlines(), start=1):
        col = len(raw) - len(raw.lstrip()) + 1
        if raw.lstrip().startswith("["):
            m = _TOML_HEADER.match(raw)
            current = _toml_table(m.group(1)) if m else current
            if current[:len(target)] == target and (not header[0] or (current == target and not exact)):
                header, exact = (n, col), current == target
            continue
        m = _TOML_KEY.match(raw)
        if m is None:
            continue
        parts = (_toml_table(m.group(3)) if m.group(3) is not None
                 else (m.group(1) if m.group(1) is not None else m.group(2),))
        if (*current, *parts) == target:
            return n, col
    return header


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word).lower(), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _read_secret_dir(path: Path) -> dict:
    """Streamlit's directory form (one sub-folder per secret, Kubernetes style), read the same way."""
    out: dict = {}
    for sub in sorted(path.iterdir()):
        if not sub.is_dir():
            raise ConfigError(f"{sub}: not a folder; in a secrets directory every secret is a sub-folder")
        files = {f.name: f.read_text(encoding="utf-8").strip() for f in sorted(sub.iterdir()) if f.is_file()}
        out[sub.name] = next(iter(files.values())) if len(files) == 1 else files
    return out


def read_secrets(paths: Iterable[str | os.PathLike]) -> SecretsDoc:
    """The secrets files Streamlit reads (its ``secrets.files`` option), parsed with :mod:`tomllib`.

    Raises
    ------
    ConfigError
        A file that exists but cannot be read or parsed, named with the line and column of the fault.
    """
    data: dict = {}
    origin: dict[str, tuple[str, str]] = {}
    found: list[str] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            part, text = _read_secret_dir(p), ""
        elif str(p).endswith(".toml"):
            try:
                stat = p.stat()
                hit = _SECRETS_READ.get(str(p))
                key = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
                text = hit[2] if hit is not None and hit[0] == key else p.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
            except OSError as exc:
                raise ConfigError(f"{p} cannot be read ({exc.strerror}); sign-in stays closed until it can") from exc
            if hit is not None and hit[0] == key:  # unchanged since the last page run
                part = hit[1]
            else:
                try:
                    part = tomllib.loads(text)
                except tomllib.TOMLDecodeError as exc:
                    msg = str(exc)
                    pos = _TOML_POS.search(msg)
                    where = f"{p}, line {pos.group(1)}, column {pos.group(2)}" if pos else str(p)
                    raise ConfigError(f"{where}: not valid TOML ({_TOML_POS.sub('', msg)}); fix the syntax "
                                      f"(see {_EXAMPLE}) — sign-in stays closed until the file parses") from exc
                _SECRETS_READ[str(p)] = (key, part, text)
        else:
            continue
        found.append(str(p))
        for k, v in part.items():
            data[k] = v
            origin[k] = (str(p), text)
    return SecretsDoc(data, origin, tuple(found))


#: secrets file → (stat key, parsed, text): a page run re-reads a secrets file only when it changed
_SECRETS_READ: dict[str, tuple[tuple, dict, str]] = {}


@dataclass(frozen=True)
class SigninSettings:
    """What sign-in is, decided once per page run from the secrets, the environment and the account file."""

    mode: str                                    # "off", "local" or "oidc"
    roles: dict[str, str] = field(default_factory=dict)   # OIDC e-mail (lower case) or "*" → role or "none"
    providers: tuple[str, ...] = ()              # named providers ([auth.NAME]); empty: the default one
    accounts: Path | None = None
    demo_role: str = "admin"
    why: str = ""                                # what chose the mode, for the page and `doctor`


def _check_type(doc: SecretsDoc, table: tuple[str, ...], key: str, value, types: tuple[type, ...], problems: list[str]):
    if not isinstance(value, types) or isinstance(value, bool):
        want = " or ".join({str: "a string in quotes", dict: "a table", list: "a list"}[t] for t in types)
        problems.append(f"{doc.where(table, key)}: [{'.'.join(table)}] {key} must be {want}, not "
                        f"{type(value).__name__} {_short(value)}; fix its value")
        return False
    if isinstance(value, str) and not value.strip():
        problems.append(f"{doc.where(table, key)}: [{'.'.join(table)}] {key} is empty; fill it in or remove it")
        return False
    return True


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "…"


def _check_url(doc, table, key, value, problems, *, suffix: str = "") -> None:
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.netloc:
        problems.append(f"{doc.where(table, key)}: [{'.'.join(table)}] {key} must be an http(s) address, "
                        f"got {_short(value)}")
    elif suffix and not u.path.endswith(suffix):
        problems.append(f"{doc.where(table, key)}: [{'.'.join(table)}] {key} must end with {suffix} "
                        f"(Streamlit's callback), got {_short(value)}")


def _check_provider(doc: SecretsDoc, table: tuple[str, ...], section: Mapping, keys: Iterable[str],
                    problems: list[str]) -> None:
    for key in keys:
        value = section[key]
        if _check_type(doc, table, key, value, AUTH_KEYS[key], problems):
            if key == "server_metadata_url":
                _check_url(doc, table, key, value, problems)
            if key == "expose_tokens":
                bad = [v for v in ([value] if isinstance(value, str) else value) if v not in ("id", "access")]
                if bad:
                    problems.append(f"{doc.where(table, key)}: [{'.'.join(table)}] expose_tokens allows only "
                                    f"'id' and 'access', got {_short(bad)}")
    missing = [k for k in _PROVIDER_REQUIRED if k not in section]
    if missing:
        problems.append(f"{doc.where(table)}: [{'.'.join(table)}] lacks {', '.join(missing)}; add them "
                        f"(see {_EXAMPLE})")


def _check_auth(doc: SecretsDoc, auth, problems: list[str]) -> tuple[str, ...]:
    """Problems of ``[auth]``; returns the named providers."""
    if not isinstance(auth, Mapping):
        problems.append(f"{doc.where((), 'auth')}: auth must be a table [auth], not {type(auth).__name__}")
        return ()
    providers: list[str] = []
    default_keys = []
    for key, value in auth.items():
        if key in AUTH_KEYS:
            if key in PROVIDER_KEYS:
                default_keys.append(key)
            elif _check_type(doc, ("auth",), key, value, AUTH_KEYS[key], problems):
                if key == "redirect_uri":
                    _check_url(doc, ("auth",), key, value.replace("{port}", "8501"), problems, suffix="/oauth2callback")
                if key == "cookie_secret" and len(value) < MIN_COOKIE_SECRET:
                    problems.append(f"{doc.where(('auth',), key)}: [auth] cookie_secret has {len(value)} characters; "
                                    f"use at least {MIN_COOKIE_SECRET} random ones "
                                    "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        elif isinstance(value, Mapping):  # a named provider [auth.NAME]
            table = ("auth", key)
            if "_" in key:
                problems.append(f"{doc.where(table)}: provider name {key!r} must not contain '_' (Streamlit)")
            unknown = [k for k in value if k not in PROVIDER_KEYS]
            for k in unknown:
                problems.append(f"{doc.where(table, k)}: unknown key {k!r} in [auth.{key}]"
                                f"{_suggest(k, PROVIDER_KEYS)} (allowed: {', '.join(PROVIDER_KEYS)})")
            _check_provider(doc, table, value, [k for k in value if k in PROVIDER_KEYS], problems)
            providers.append(key)
        else:
            problems.append(f"{doc.where(('auth',), key)}: unknown key {key!r} in [auth]{_suggest(key, AUTH_KEYS)} "
                            f"(allowed: {', '.join(AUTH_KEYS)}); rename or remove it")
    for key in ("redirect_uri", "cookie_secret"):
        if key not in auth:
            problems.append(f"{doc.where(('auth',))}: [auth] lacks {key}; add it (see {_EXAMPLE})")
    if default_keys:
        _check_provider(doc, ("auth",), auth, default_keys, problems)
    elif not providers:
        problems.append(f"{doc.where(('auth',))}: [auth] names no identity provider; add client_id, client_secret "
                        f"and server_metadata_url (or an [auth.NAME] table with them)")
    return tuple(providers)


def _check_regionair(doc: SecretsDoc, section, problems: list[str]) -> dict[str, str]:
    if not isinstance(section, Mapping):
        problems.append(f"{doc.where((), 'regionair')}: regionair must be a table [regionair]")
        return {}
    for key in section:
        if key not in REGIONAIR_KEYS:
            problems.append(f"{doc.where(('regionair',), key)}: unknown key {key!r} in [regionair]"
                            f"{_suggest(key, REGIONAIR_KEYS)} (allowed: {', '.join(REGIONAIR_KEYS)})")
    roles = section.get("roles", {})
    if not isinstance(roles, Mapping):
        problems.append(f"{doc.where(('regionair',), 'roles')}: roles must be a table [regionair.roles] of "
                        "e-mail = role")
        return {}
    out: dict[str, str] = {}
    valid = (*ROLES, NO_ACCESS)
    for who, role in roles.items():
        if not isinstance(role, str) or role not in valid:
            problems.append(f"{doc.where(('regionair', 'roles'), who)}: role {_short(role)} of {who!r} unknown"
                            f"{_suggest(role, valid) if isinstance(role, str) else ''} (valid: {', '.join(valid)})")
            continue
        out[str(who).strip().lower()] = role
    return out


def _check_top(doc: SecretsDoc, problems: list[str]) -> None:
    """Misspelt or misplaced sign-in sections: ``[Auth]``, ``[auht]``, ``[login]`` with client_id, a bare redirect_uri."""
    signin_keys = set(AUTH_KEYS) - {"client_kwargs", "expose_tokens"}
    for key, value in doc.data.items():
        if key in _SECTIONS or key == "alerts":
            continue
        low = key.lower()
        if key in signin_keys:
            problems.append(f"{doc.where((), key)}: {key} is outside any section; it belongs under [auth] "
                            "(is the [auth] header missing or below it?)")
        elif low in _SECTIONS or "auth" in low or difflib.get_close_matches(low, _SECTIONS, n=1, cutoff=0.7):
            near = difflib.get_close_matches(low, _SECTIONS, n=1, cutoff=0.0)[0] if "auth" not in low else "auth"
            problems.append(f"{doc.where((key,))}: section [{key}] is not one RegionAir knows; did you mean "
                            f"[{near}]? (names are lower case; sign-in stays closed until it is fixed)")
        elif low == "roles":
            problems.append(f"{doc.where((key,))}: [{key}] must be [regionair.roles]")
        elif isinstance(value, Mapping) and signin_keys & set(value):
            problems.append(f"{doc.where((key,))}: [{key}] holds sign-in settings "
                            f"({', '.join(sorted(signin_keys & set(value)))}); the section must be called [auth]")


def _authlib_missing() -> bool:
    return importlib.util.find_spec("authlib") is None


def signin_settings(secrets: SecretsDoc | Mapping | None = None, *, environ: Mapping[str, str] | None = None,
                    accounts: str | os.PathLike | None = None) -> SigninSettings:
    """Decide the sign-in mode, failing closed.

    ``oidc`` when ``[auth]`` is configured (or ``$REGIONAIR_AUTH=oidc``), ``local`` when
    ``$REGIONAIR_AUTH=local`` or the account file exists, ``off`` (the demo) only when nothing at all is
    configured.

    Raises
    ------
    ConfigError
        Every defect found at once: unknown keys (with the nearest valid one), wrong types, a misspelt
        or misplaced section, an ``[auth]`` that lacks what ``st.login`` needs, roles without ``[auth]``,
        an unknown ``$REGIONAIR_AUTH`` or ``$REGIONAIR_DEMO_ROLE``, OIDC without Authlib.
    """
    env = os.environ if environ is None else environ
    doc = secrets if isinstance(secrets, SecretsDoc) else SecretsDoc(dict(secrets or {}))
    path = Path(accounts) if accounts is not None else default_accounts_path()
    problems: list[str] = []
    _check_top(doc, problems)
    providers = _check_auth(doc, doc.data["auth"], problems) if "auth" in doc.data else ()
    roles = _check_regionair(doc, doc.data["regionair"], problems) if "regionair" in doc.data else {}
    wanted = env.get("REGIONAIR_AUTH", "").strip().lower()
    if wanted not in ("", "local", "oidc"):
        problems.append(f"environment REGIONAIR_AUTH={env.get('REGIONAIR_AUTH')!r} unknown{_suggest(wanted, ('local', 'oidc'))}"
                        " (valid: local, oidc; unset it for the demo)")
    if wanted == "oidc" or (not wanted and "auth" in doc.data):
        mode, why = "oidc", "[auth] in " + (doc.origin.get("auth", ("secrets",))[0])
        if "auth" not in doc.data:
            problems.append("environment REGIONAIR_AUTH=oidc but no secrets file has an [auth] section "
                            f"(looked in: {', '.join(doc.files) or 'no secrets file found'}); add one (see {_EXAMPLE})")
        elif _authlib_missing():
            problems.append("[auth] is configured but Streamlit's sign-in needs Authlib: pip install 'Authlib>=1.3.2'")
    elif wanted == "local" or path.is_file():
        mode, why = "local", ("REGIONAIR_AUTH=local" if wanted == "local" else f"account file {path}")
    else:
        mode, why = "off", "nothing configured"
        if "regionair" in doc.data:
            problems.append(f"{doc.where(('regionair',))}: [regionair] roles are set but sign-in is not: add an "
                            "[auth] section (OIDC) or local accounts (`python -m regionair user add`)")
    demo_role = env.get("REGIONAIR_DEMO_ROLE", "admin").strip() or "admin"
    if mode == "off" and demo_role not in ROLES:
        problems.append(f"environment REGIONAIR_DEMO_ROLE={demo_role!r} unknown{_suggest(demo_role, ROLES)} "
                        f"(valid: {', '.join(ROLES)})")
    if problems:
        raise ConfigError(problems)
    return SigninSettings(mode, roles, providers, path, demo_role, why)


def oidc_role(settings: SigninSettings, email: str) -> str | None:
    """The role of an OIDC user by ``[regionair.roles]`` (``"*"`` for everybody else, default viewer);
    ``None`` for "none" (no access)."""
    role = settings.roles.get((email or "").strip().lower()) or settings.roles.get("*") or "viewer"
    return None if role == NO_ACCESS else role


# --------------------------------------------------------------------------- throttling and audit names

#: Failed sign-ins allowed before a lock (per user name and per session).
FREE_FAILURES = 5
LOCK_BASE_S = 60.0      # the first lock; each further failure doubles it …
LOCK_MAX_S = 900.0      # … up to 15 minutes
FORGET_S = 3600.0       # failures older than this (and no lock running) are forgotten


class LoginThrottle:
    """Failed sign-ins per key (a user name's hash, a session id), shared by every session of the server.

    After :data:`FREE_FAILURES` failures a key is locked for :data:`LOCK_BASE_S`, doubling with each
    further failure up to :data:`LOCK_MAX_S`. While a key is locked no password is checked at all (no
    Argon2 work for an attacker to spend). A success forgets the keys. At most ``max_keys`` keys are kept
    (the oldest unlocked ones go first), so a spray of random names cannot fill the memory.
    """

    def __init__(self, *, free: int = FREE_FAILURES, base_s: float = LOCK_BASE_S, max_s: float = LOCK_MAX_S,
                 forget_s: float = FORGET_S, max_keys: int = 10_000, clock=time.monotonic):
        self.free, self.base_s, self.max_s, self.forget_s, self.max_keys = free, base_s, max_s, forget_s, max_keys
        self.clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, list[float]] = {}  # key → [failures, last failure, locked until]

    @staticmethod
    def user_key(name: str) -> str:
        return "user:" + hashlib.sha256(str(name).strip().casefold().encode()).hexdigest()

    @staticmethod
    def session_key(session_id: str) -> str:
        return f"session:{session_id}"

    def wait(self, *keys: str) -> float:
        """Seconds until a sign-in may be tried for every key (0 when allowed now)."""
        now = self.clock()
        with self._lock:
            return max([0.0] + [s[2] - now for k in keys if (s := self._state.get(k)) is not None and s[2] > now])

    def failures(self, key: str) -> int:
        with self._lock:
            s = self._state.get(key)
            return int(s[0]) if s else 0

    def failure(self, *keys: str) -> float:
        """Record a failed sign-in; returns the lock (s) it starts now, 0 when none."""
        now = self.clock()
        lock = 0.0
        with self._lock:
            self._prune(now)
            for k in keys:
                s = self._state.get(k)
                if s is None or (now - s[1] > self.forget_s and s[2] <= now):
                    s = self._state[k] = [0.0, now, 0.0]
                s[0] += 1
                s[1] = now
                if s[0] >= self.free:
                    this = min(self.max_s, self.base_s * 2 ** (s[0] - self.free))
                    s[2] = now + this
                    lock = max(lock, this)
        return lock

    def success(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._state.pop(k, None)

    def _prune(self, now: float) -> None:
        if len(self._state) < self.max_keys:
            return
        for k in [k for k, s in self._state.items() if now - s[1] > self.forget_s and s[2] <= now]:
            del self._state[k]
        while len(self._state) >= self.max_keys:
            unlocked = [(s[1], k) for k, s in self._state.items() if s[2] <= now] or \
                       [(s[1], k) for k, s in self._state.items()]
            del self._state[min(unlocked)[1]]


#: The server's throttle (one per process; the dashboard's sessions share it).
THROTTLE = LoginThrottle()
UNKNOWN_USER = "unknown user"


def audit_who(name: str, known: bool, source: str = "local") -> str:
    """The ``who`` of a sign-in event: the account name when it exists, else only "unknown user".

    A string typed into the name field that is no account may be a password typed in the wrong box;
    it is never written, not even hashed (a short hash of a weak password is easily reversed).
    """
    return f"{source}:{name}" if known else f"{source}:{UNKNOWN_USER}"


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

    root = resolve_store_path(getattr(args, "store", None))
    if not (root / MANIFEST).exists():
        return

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
