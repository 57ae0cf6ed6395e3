"""Heavy-pollution warning schemes (重污染天气预警分级) as data files, and their conditions on an AQI series.

A scheme is a TOML file in ``data/warning_schemes/`` (or any path): levels from lowest to highest, each
a list of *clauses* (OR), a lifting rule and, optionally, Xinjiang's regional lifting rule and
per-jurisdiction overrides. Shipped schemes:

``national-2018``
    环办大气函〔2018〕875号 (yellow/orange/red; blue abolished). Orange's "> 300 on a day" clause is
    UNCERTAIN (standards.md U4).
``national-2024-reconstructed``
    环大气〔2024〕6号 as reconstructed in standards.md §5.2 — ``uncertain = true``; every warning level is
    UNCERTAIN (U3). Adds the "temporary controls" (临时管控) tier below yellow (sourced, Yangzhou 2026).
``local-example``
    An editable copy for the bureau, with the Xinjiang regional lifting rule (sourced, 2024-03-02 notice).

Indicator
---------
Conditions are evaluated on a **rolling 24-h AQI** series ``r(t)`` (the daily-AQI method applied to the
24 hours ending at each hour t; may cross midnight — standards.md §5). "AQI > X for N days" holds at t
when the N consecutive, non-overlapping 24-h windows ending at t, t − 24 h, …, t − 24(N − 1) h all have
AQI > X (``op = ">="``: ≥ X); ``with_above = Y, with_days = M`` additionally needs ≥ M of those windows
with AQI > Y. "For ≥ 48 h" is read as 2 such windows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from regionair.errors import InputError

SCHEMES_DIR = Path(__file__).resolve().parents[2] / "data" / "warning_schemes"
DEFAULT_SCHEME = "national-2024-reconstructed"
#: Xinjiang's regional lifting rule (自治区 notice 2024-03-02, standards.md §5.3), used when a scheme has none.
DEFAULT_REGIONAL_LIFTING = {"below": 150.0, "hours": 36, "min_units": 3, "min_prefectures": 2}


@dataclass(frozen=True)
class Clause:
    """One condition: AQI > ``above`` (or ≥ with ``op=">="``) on ``days`` consecutive 24-h windows."""

    above: float
    days: int = 1
    op: str = ">"
    with_above: float | None = None
    with_days: int = 0

    def text(self) -> str:
        s = f"AQI {self.op} {self.above:g} for {self.days} day(s)"
        if self.with_above is not None and self.with_days:
            s += f", of which {self.with_days} > {self.with_above:g}"
        return s


@dataclass(frozen=True)
class Level:
    level: str
    name_zh: str
    warning: bool
    clauses: tuple[Clause, ...]
    source: str = ""
    uncertain: bool = False
    uncertain_note: str = ""


@dataclass(frozen=True)
class Scheme:
    """A warning scheme (see the module docstring). ``levels`` run from lowest to highest."""

    name: str
    title_zh: str
    title_en: str
    uncertain: bool
    levels: tuple[Level, ...]
    lift_below: float
    lift_hours: int
    regional_lifting: dict = field(default_factory=lambda: dict(DEFAULT_REGIONAL_LIFTING))
    overrides: dict = field(default_factory=dict)
    notes: str = ""
    path: str = ""

    @property
    def level_names(self) -> tuple[str, ...]:
        """``("none", <levels…>)``: index 0 means no level."""
        return ("none", *(lv.level for lv in self.levels))

    def for_jurisdiction(self, jurisdiction: str) -> Scheme:
        """The scheme with a ``[jurisdictions.<id>]`` override applied (itself when there is none)."""
        o = self.overrides.get(jurisdiction)
        if not o:
            return self
        levels = _levels(o["levels"], self.path) if "levels" in o else self.levels
        lift = o.get("lifting", {})
        return Scheme(self.name, self.title_zh, self.title_en, self.uncertain, levels,
                      float(lift.get("below", self.lift_below)), int(lift.get("hours", self.lift_hours)),
                      self.regional_lifting, {}, self.notes, self.path)

    def uncertain_rows(self) -> list[str]:
        """Notes of every UNCERTAIN row (levels and lifting), for display next to a figure."""
        out = [f"{lv.level}: {lv.uncertain_note}" for lv in self.levels if lv.uncertain]
        return ([self.notes] if self.uncertain and self.notes else []) + out


def _clause(d: dict, path: str) -> Clause:
    try:
        c = Clause(above=float(d["above"]), days=int(d.get("days", 1)), op=str(d.get("op", ">")),
                   with_above=float(d["with_above"]) if "with_above" in d else None,
                   with_days=int(d.get("with_days", 0)))
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"bad clause {d!r} ({err}); needs above = <AQI>, optional days, op, with_above, "
                         "with_days", path=path) from None
    if c.op not in (">", ">="):
        raise InputError(f"clause op {c.op!r}; choose '>' or '>='", path=path)
    if c.days < 1 or c.with_days > c.days:
        raise InputError(f"clause {d!r}: days must be >= 1 and with_days <= days", path=path)
    return c


def _levels(items: list, path: str) -> tuple[Level, ...]:
    out = []
    for d in items:
        if "level" not in d or not d.get("clauses"):
            raise InputError(f"level entry {d!r} needs 'level' and a non-empty 'clauses' list", path=path)
        out.append(Level(level=str(d["level"]), name_zh=str(d.get("name_zh", d["level"])),
                         warning=bool(d.get("warning", True)),
                         clauses=tuple(_clause(c, path) for c in d["clauses"]),
                         source=str(d.get("source", "")), uncertain=bool(d.get("uncertain", False)),
                         uncertain_note=str(d.get("uncertain_note", ""))))
    return tuple(out)


def list_schemes() -> list[str]:
    """Names of the schemes shipped in ``data/warning_schemes/``."""
    return sorted(p.stem for p in SCHEMES_DIR.glob("*.toml"))


def load_scheme(scheme: str | Path | Scheme = DEFAULT_SCHEME) -> Scheme:
    """Load a scheme by name (``national-2018``, ``national-2024-reconstructed``, ``local-example``) or path.

    Raises
    ------
    InputError
        Unknown name, unreadable file, or a malformed entry (the message names the file and entry).
    """
    if isinstance(scheme, Scheme):
        return scheme
    p = Path(scheme)
    if not p.suffix:
        p = SCHEMES_DIR / f"{scheme}.toml"
    if not p.is_file():
        raise InputError(f"warning scheme {str(scheme)!r} not found; shipped: {', '.join(list_schemes())}, "
                         "or pass the path of a .toml file")
    try:
        d = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", path=p) from None
    if not d.get("levels"):
        raise InputError("scheme has no [[levels]]", path=p)
    lift = d.get("lifting", {})
    regional = {**DEFAULT_REGIONAL_LIFTING, **d.get("regional_lifting", {})}
    return Scheme(name=str(d.get("name", p.stem)), title_zh=str(d.get("title_zh", "")),
                  title_en=str(d.get("title_en", "")), uncertain=bool(d.get("uncertain", False)),
                  levels=_levels(d["levels"], str(p)), lift_below=float(lift.get("below", 150)),
                  lift_hours=int(lift.get("hours", 36)), regional_lifting=regional,
                  overrides=dict(d.get("jurisdictions", {})), notes=str(d.get("notes", "")), path=str(p))


def clause_met(r: pd.Series, clause: Clause) -> pd.Series:
    """Whether ``clause`` holds for the windows ending at each hour of ``r``.

    Parameters
    ----------
    r : Series of rolling-24-h AQI on a complete hourly index (NaN = unknown → not met).
    clause : :class:`Clause`.

    Returns
    -------
    bool Series indexed like ``r``.
    """
    v = r.to_numpy(dtype="float64")
    n = len(v)
    ok = np.ones(n, dtype=bool)
    with_count = np.zeros(n, dtype=int)
    for j in range(clause.days):
        s = np.full(n, np.nan)
        if 24 * j < n:
            s[24 * j:] = v[: n - 24 * j]
        ok &= (s >= clause.above) if clause.op == ">=" else (s > clause.above)
        if clause.with_above is not None:
            with_count += s > clause.with_above
    if clause.with_above is not None and clause.with_days:
        ok &= with_count >= clause.with_days
    return pd.Series(ok, index=r.index)


def level_met(r: pd.Series, scheme: Scheme) -> pd.Series:
    """Highest level (index into ``scheme.level_names``; 0 = none) whose condition holds at each hour."""
    out = np.zeros(len(r), dtype=int)
    for i, lv in enumerate(scheme.levels, start=1):
        met = np.zeros(len(r), dtype=bool)
        for c in lv.clauses:
            met |= clause_met(r, c).to_numpy()
        out = np.where(met, i, out)
    return pd.Series(out, index=r.index)
