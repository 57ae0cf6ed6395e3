"""Alert delivery: rules → events → notifications (WeCom, DingTalk, generic JSON webhooks, SMTP e-mail).

Flow
----
1. :func:`events_from_report` turns a :func:`regionair.warnings.desk.warnings_report` into
   :class:`Event` s according to :class:`Rule` s (*what*: ``warning``, ``forecast_level``, ``flag``,
   ``budget``, ``critical_day``; *where*: jurisdiction ids or ``*``; *level*: the lowest level that fires).
2. :class:`Notifier` delivers them to the configured targets:

   * **de-duplicated** — one alert per (rule, jurisdiction, level) until it clears: the key is stored in a
     small JSON state file (path passed in); when a later evaluation no longer produces the key it is
     *cleared* (logged) and may fire again;
   * **rate-limited** — at most ``rate_limit[0]`` messages per target per ``rate_limit[1]`` seconds; a
     limited message is not marked sent, so it goes out on a later run;
   * **logged** — one JSON line per delivery attempt / clearance (``log_path``) and the ``logging`` logger
     ``regionair.warnings.alerts``. URLs, tokens, secrets and passwords are never written anywhere.

Targets (secrets)
-----------------
``secrets["alerts"]["targets"]`` (e.g. ``st.secrets``) or the environment variable
``REGIONAIR_ALERT_TARGETS`` (a JSON list), each a dict with ``type`` and ``name``:

``wecom``     ``url`` (企业微信群机器人 webhook, ``…/cgi-bin/webhook/send?key=…``) — payload
              ``{"msgtype": "markdown", "markdown": {"content": …}}``
``dingtalk``  ``url`` (钉钉机器人 ``…/robot/send?access_token=…``), optional ``secret`` (加签): the URL gets
              ``&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret, "<ms>\\n<secret>")))>`` — payload
              ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``
``json``      ``url``, optional ``headers`` — payload :meth:`Event.as_json`
``smtp``      ``host``, ``port`` (465), ``ssl`` (true) or ``starttls``, ``user``, ``password``, ``from``,
              ``to`` (list)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from regionair.core.region import jurisdictions
from regionair.errors import InputError

log = logging.getLogger("regionair.warnings.alerts")

TARGET_TYPES = ("wecom", "dingtalk", "json", "smtp")
#: Levels per kind of rule, lowest first; a rule fires at its level and above.
LEVELS: dict[str, tuple[str, ...]] = {
    "warning": ("temporary", "yellow", "orange", "red"),
    "forecast_level": ("temporary", "yellow", "orange", "red"),
    "flag": ("near", "crossed"),
    "budget": ("tight", "already exceeded"),
    "critical_day": ("critical",),
}
LEVEL_ZH = {"temporary": "临时管控", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警",
            "near": "临近阈值", "crossed": "越过阈值", "tight": "余量紧张", "already exceeded": "已超标",
            "critical": "临界天"}


# ------------------------------------------------------------------------------------------------
# Rules and events
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What, where and from which level an alert fires.

    Parameters
    ----------
    id : rule id (part of the de-duplication key).
    what : ``"warning"`` (active warnings), ``"forecast_level"``, ``"flag"``, ``"budget"``, ``"critical_day"``.
    where : jurisdiction ids, or ``("*",)`` for all.
    level : lowest level that fires (see :data:`LEVELS`); default the lowest of ``what``.
    boundary : for ``budget``/``flag``: only this IAQI boundary (default 100 for budgets, any for flags).
    pollutants : optional subset of pollutants (``flag``, ``budget``, ``critical_day``).
    """

    id: str
    what: str
    where: tuple[str, ...] = ("*",)
    level: str | None = None
    boundary: int | None = None
    pollutants: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.what not in LEVELS:
            raise InputError(f"rule {self.id!r}: what={self.what!r}; choose one of {', '.join(LEVELS)}")
        if self.level is not None and self.level not in LEVELS[self.what]:
            raise InputError(f"rule {self.id!r}: level={self.level!r}; for {self.what} choose one of "
                             f"{', '.join(LEVELS[self.what])}")
        if isinstance(self.where, str):
            object.__setattr__(self, "where", (self.where,))

    def matches(self, jurisdiction: str, level: str) -> bool:
        order = LEVELS[self.what]
        low = order.index(self.level) if self.level else 0
        return ("*" in self.where or jurisdiction in self.where) and level in order and order.index(level) >= low

    @classmethod
    def from_dict(cls, d: Mapping) -> Rule:
        where = d.get("where", ("*",))
        pols = d.get("pollutants")
        return cls(id=str(d["id"]), what=str(d["what"]), where=tuple([where] if isinstance(where, str) else where),
                   level=d.get("level"), boundary=d.get("boundary"),
                   pollutants=tuple(pols) if pols else None)


@dataclass
class Event:
    """One alert: a rule firing for a jurisdiction at a level."""

    rule: str
    jurisdiction: str
    level: str
    title: str
    text: str
    data: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.rule}|{self.jurisdiction}|{self.level}"

    def markdown(self) -> str:
        return f"### {self.title}\n{self.text}"

    def as_json(self) -> dict:
        return {"source": "regionair", "rule": self.rule, "jurisdiction": self.jurisdiction, "level": self.level,
                "title": self.title, "text": self.text, "data": self.data}


def _jname(j: str) -> str:
    try:

        t = jurisdictions().set_index("id")["name_zh"]
        return str(t.get(j, j))
    except Exception:  # noqa: BLE001 — a display name is optional; the id is enough
        return j


def _fmt(v, nd=0) -> str:
    try:
        return f"{float(v):.{nd}f}"
    except (TypeError, ValueError):
        return str(v)


def events_from_report(report: Mapping[str, pd.DataFrame], rules: Iterable[Rule | Mapping]) -> list[Event]:
    """Events the rules produce from a warnings report (one per rule, jurisdiction and highest level).

    Parameters
    ----------
    report : dict from :func:`regionair.warnings.desk.warnings_report`.
    rules : :class:`Rule` s or dicts with the same fields.
    """
    out: list[Event] = []
    for rule in rules:
        rule = rule if isinstance(rule, Rule) else Rule.from_dict(rule)
        order = LEVELS[rule.what]
        found: dict[str, tuple[str, list[str], dict]] = {}

        def add(j, level, line, data, rule=rule, order=order, found=found):
            if not rule.matches(j, level):
                return
            cur = found.get(j)
            if cur is None or order.index(level) > order.index(cur[0]):
                found[j] = (level, [line], data)
            elif cur[0] == level:
                cur[1].append(line)

        if rule.what in ("warning", "forecast_level"):
            df = report.get("active_warnings" if rule.what == "warning" else "forecast_levels", pd.DataFrame())
            for r in df.itertuples():
                if r.level in order:
                    when = getattr(r, "since", None) if rule.what == "warning" else getattr(r, "first_met", None)
                    line = f"{LEVEL_ZH.get(r.level, r.level)}（{r.scheme}{'，方案待核实' if r.uncertain else ''}）"
                    if when is not None and not pd.isna(when):
                        line += f"，{'起始' if rule.what == 'warning' else '预计达到'} {pd.Timestamp(when):%m-%d %H:%M}"
                    add(r.jurisdiction, r.level, line, {"scheme": r.scheme, "uncertain": bool(r.uncertain)})
        elif rule.what == "flag":
            df = report.get("flags", pd.DataFrame())
            for r in df.itertuples():
                if r.flag not in order or (rule.pollutants and r.pollutant not in rule.pollutants):
                    continue
                if rule.boundary is not None and r.boundary != rule.boundary:
                    continue
                j = r.jurisdiction if r.scope == "station" else r.id
                who = f"站点 {r.id}" if r.scope == "station" else "区域均值"
                line = (f"{who} {r.pollutant} IAQI {_fmt(r.iaqi)} → {_fmt(r.boundary)}"
                        f"（距 {_fmt(r.distance)}，3h {_fmt(r.trend, 0)}）")
                add(j, r.flag, line, {})
        elif rule.what == "budget":
            df = report.get("budgets", pd.DataFrame())
            b = 100 if rule.boundary is None else rule.boundary
            for r in df.itertuples():
                if r.scope != "jurisdiction" or r.boundary != b or r.status not in order:
                    continue
                if rule.pollutants and r.pollutant not in rule.pollutants:
                    continue
                line = (f"{r.pollutant}: 均值 {_fmt(r.mean_so_far, 1)}（{r.hours_valid} h），限值 {_fmt(r.limit, 1)}，"
                        f"剩余时段允许 {_fmt(r.allowance, 1)}，近3h {_fmt(r.recent, 1)} {r.unit}")
                add(r.jurisdiction, r.status, line, {"boundary": int(b), "date": str(r.date)})
        elif rule.what == "critical_day":
            df = report.get("critical_days", pd.DataFrame())
            for r in df.itertuples():
                if rule.pollutants and r.pollutant not in rule.pollutants:
                    continue
                line = (f"{r.date} AQI {_fmt(r.aqi)}，{r.pollutant} 需降 {_fmt(r.drop_needed, 1)}"
                        f"（{_fmt(r.drop_pct, 0)}%）")
                add(r.jurisdiction, "critical", line, {})
        for j, (level, lines, data) in found.items():
            title = f"【{LEVEL_ZH.get(level, level)}】{_jname(j)}"
            out.append(Event(rule=rule.id, jurisdiction=j, level=level, title=title,
                             text="\n".join(f"- {x}" for x in lines), data={**data, "what": rule.what}))
    return out


# ------------------------------------------------------------------------------------------------
# Targets and payloads
# ------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A delivery target. Its repr never shows URL, secret or password."""

    name: str
    type: str
    config: dict = field(repr=False)

    def __post_init__(self):
        if self.type not in TARGET_TYPES:
            raise InputError(f"alert target {self.name!r}: type={self.type!r}; choose one of {', '.join(TARGET_TYPES)}")
        need = ("host", "to") if self.type == "smtp" else ("url",)
        missing = [k for k in need if not self.config.get(k)]
        if missing:
            raise InputError(f"alert target {self.name!r} ({self.type}) lacks {', '.join(missing)} in the secrets")

    def secrets(self) -> list[str]:
        """Sensitive strings to redact from any message."""
        vals = [self.config.get(k) for k in ("url", "secret", "password", "user")]
        url = self.config.get("url") or ""
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        vals += [v for vs in q.values() for v in vs]
        return [str(v) for v in vals if v]


def load_targets(secrets: Mapping | None = None, environ: Mapping | None = None) -> list[Target]:
    """Targets from ``secrets["alerts"]["targets"]`` and/or ``$REGIONAIR_ALERT_TARGETS`` (JSON list)."""
    env = os.environ if environ is None else environ
    items = []
    if secrets is not None:
        alerts = secrets.get("alerts", {}) if hasattr(secrets, "get") else {}
        items += list(alerts.get("targets", []) if hasattr(alerts, "get") else [])
    raw = env.get("REGIONAIR_ALERT_TARGETS")
    if raw:
        try:
            items += list(json.loads(raw))
        except json.JSONDecodeError as err:
            raise InputError(f"REGIONAIR_ALERT_TARGETS is not a JSON list ({err.msg} at {err.pos})") from None
    out = []
    for i, d in enumerate(items):
        d = dict(d)
        out.append(Target(name=str(d.pop("name", f"target{i + 1}")), type=str(d.pop("type", "")), config=d))
    return out


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signature: urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))."""
    msg = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), msg, digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def build_request(target: Target, event: Event, *, timestamp_ms: int | None = None) -> tuple[str, bytes, dict]:
    """(url, body, headers) of the HTTP POST for a webhook target."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = target.config["url"]
    if target.type == "wecom":
        payload = {"msgtype": "markdown", "markdown": {"content": event.markdown()}}
    elif target.type == "dingtalk":
        payload = {"msgtype": "markdown", "markdown": {"title": event.title, "text": event.markdown()}}
        secret = target.config.get("secret")
        if secret:
            ts = int(time.time() * 1000) if timestamp_ms is None else int(timestamp_ms)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
    elif target.type == "json":
        payload = event.as_json()
        headers.update(target.config.get("headers", {}))
    else:
        raise InputError(f"target {target.name!r} is {target.type}, not a webhook")
    return url, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers


def http_post(url: str, body: bytes, headers: dict, timeout: float = 10.0) -> tuple[int, bytes]:
    """Default transport: POST with urllib (explicit timeout). Returns (status, body)."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 — URL from the bureau's secrets
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read() or b""


def _smtp_send(target: Target, event: Event, smtp_factory) -> None:
    c = target.config
    msg = EmailMessage()
    msg["Subject"] = event.title
    msg["From"] = c.get("from") or c.get("user") or "regionair@localhost"
    to = c["to"] if isinstance(c["to"], list | tuple) else [c["to"]]
    msg["To"] = ", ".join(to)
    msg.set_content(event.markdown())
    port = int(c.get("port", 465 if c.get("ssl", True) else 25))
    ssl = bool(c.get("ssl", True)) and not c.get("starttls")
    factory = smtp_factory or (smtplib.SMTP_SSL if ssl else smtplib.SMTP)
    with factory(c["host"], port, timeout=float(c.get("timeout", 15))) as s:
        if c.get("starttls"):
            s.starttls()
        if c.get("user"):
            s.login(c["user"], c.get("password", ""))
        s.send_message(msg)


# ------------------------------------------------------------------------------------------------
# Notifier
# ------------------------------------------------------------------------------------------------


#: Where a store keeps the alert state (active keys, send times) and the delivery log, relative to its root.
ALERT_STATE_FILE = "alerts_state.json"


def alert_paths(store_root) -> tuple[Path, Path]:
    """(state file, delivery log) of the store at ``store_root`` — the watcher writes them, the page reads them."""
    state = Path(store_root) / ALERT_STATE_FILE
    return state, state.with_suffix(".log.jsonl")


class Notifier:
    """Deliver events with de-duplication, rate limiting and a log.

    Parameters
    ----------
    targets : list of :class:`Target` (see :func:`load_targets`).
    state_path : JSON file keeping the active keys and recent send times (created if absent).
    send : transport ``send(url, body, headers) -> (status, body)``; default :func:`http_post`. Inject a
        fake in tests.
    smtp_factory : ``factory(host, port, timeout=…)`` returning an ``smtplib.SMTP``-like context manager.
    rate_limit : (max messages, per seconds) per target; default (20, 3600).
    log_path : JSON-lines log (default ``<state_path>.log.jsonl``).
    clock : ``() -> float`` seconds (default ``time.time``).
    """

    def __init__(self, targets: list[Target], state_path: str | os.PathLike, *,
                 send: Callable[[str, bytes, dict], tuple[int, bytes]] | None = None, smtp_factory=None,
                 rate_limit: tuple[int, float] = (20, 3600.0), log_path: str | os.PathLike | None = None,
                 clock: Callable[[], float] | None = None):
        self.targets = list(targets)
        self.state_path = Path(state_path)
        self.log_path = Path(log_path) if log_path else self.state_path.with_suffix(".log.jsonl")
        self.send = send or http_post
        self.smtp_factory = smtp_factory
        self.rate_limit = rate_limit
        self.clock = clock or time.time

    # state ---------------------------------------------------------------------------------------
    def load_state(self) -> dict:
        if not self.state_path.exists():
            return {"active": {}, "sent": {}}
        try:
            s = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError) as err:
            raise InputError(f"alert state file unreadable ({err}); delete it to start afresh",
                             path=self.state_path) from None
        s.setdefault("active", {})
        s.setdefault("sent", {})
        return s

    def _save_state(self, state: dict) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def _log(self, record: dict) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        log.info("alert %s", {k: v for k, v in record.items() if k != "text"})

    def _redact(self, text: str) -> str:
        for t in self.targets:
            for s in t.secrets():
                text = text.replace(s, "***")
        return text

    # delivery ------------------------------------------------------------------------------------
    def _deliver(self, target: Target, event: Event) -> tuple[str, str]:
        """Send one event to one target → (status, error text, redacted)."""
        try:
            if target.type == "smtp":
                _smtp_send(target, event, self.smtp_factory)
                return "sent", ""
            url, body, headers = build_request(target, event)
            status, resp = self.send(url, body, headers)
            if not 200 <= int(status) < 300:
                return "failed", f"HTTP {status}"
            if target.type in ("wecom", "dingtalk"):
                try:
                    j = json.loads(resp or b"{}")
                except json.JSONDecodeError:
                    j = {}
                if j.get("errcode", 0) != 0:
                    return "failed", self._redact(f"errcode {j.get('errcode')}: {j.get('errmsg', '')}")
            return "sent", ""
        except (OSError, smtplib.SMTPException, ValueError) as err:
            return "failed", self._redact(f"{type(err).__name__}: {err}")

    def process(self, events: Iterable[Event], now: float | None = None) -> pd.DataFrame:
        """Send new events, skip duplicates, clear keys no longer produced; return the log rows.

        Returns
        -------
        DataFrame ``time``, ``key``, ``rule``, ``jurisdiction``, ``level``, ``target``, ``status``
        (``sent``, ``failed``, ``rate-limited``, ``duplicate``, ``cleared``), ``error``.
        """
        now = self.clock() if now is None else now
        state = self.load_state()
        events = list(events)
        current = {e.key for e in events}
        rows = []
        stamp = pd.Timestamp(now, unit="s", tz="Asia/Shanghai").isoformat()
        for key in [k for k in state["active"] if k not in current]:
            rule, j, level = key.split("|", 2)
            del state["active"][key]
            rows.append({"time": stamp, "key": key, "rule": rule, "jurisdiction": j, "level": level,
                         "target": "", "status": "cleared", "error": ""})
        window = float(self.rate_limit[1])
        for e in events:
            entry = state["active"].setdefault(e.key, {"first_seen": stamp, "sent_to": []})
            for t in self.targets:
                row = {"time": stamp, "key": e.key, "rule": e.rule, "jurisdiction": e.jurisdiction,
                       "level": e.level, "target": t.name, "error": ""}
                if t.name in entry["sent_to"]:
                    rows.append({**row, "status": "duplicate"})
                    continue
                recent = [x for x in state["sent"].get(t.name, []) if now - x < window]
                if len(recent) >= int(self.rate_limit[0]):
                    rows.append({**row, "status": "rate-limited"})
                    state["sent"][t.name] = recent
                    continue
                status, err = self._deliver(t, e)
                if status == "sent":
                    entry["sent_to"].append(t.name)
                    recent.append(now)
                state["sent"][t.name] = recent
                rows.append({**row, "status": status, "error": err})
        self._save_state(state)
        for r in rows:
            if r["status"] != "duplicate":
                self._log(r)
        return pd.DataFrame(rows, columns=["time", "key", "rule", "jurisdiction", "level", "target", "status", "error"])

    def test_send(self, text: str = "RegionAir 测试消息 / test message") -> pd.DataFrame:
        """Send a test message to every target (no de-duplication, not rate-limited); return the results."""
        e = Event(rule="test", jurisdiction="-", level="test", title="RegionAir 测试 / test", text=text)
        rows = []
        for t in self.targets:
            status, err = self._deliver(t, e)
            row = {"time": pd.Timestamp(self.clock(), unit="s", tz="Asia/Shanghai").isoformat(), "key": "test",
                   "rule": "test", "jurisdiction": "", "level": "test", "target": t.name, "status": status,
                   "error": err}
            self._log(row)
            rows.append(row)
        return pd.DataFrame(rows)
