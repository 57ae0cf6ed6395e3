"""The near-threshold page's plain sentences: per jurisdiction, what is close to which boundary and how low the
rest of the day must stay (from :func:`regionair.analysis.near_threshold.daily_budget`)."""

from __future__ import annotations

import pandas as pd

from regionair.core.i18n import fmt_value, pollutant_label, t
from regionair.core.nomenclature import UNITS

#: Order in which one pollutant speaks for a unit: what already happened first, then what is close.
STATUS_ORDER = {"already exceeded": 0, "tight": 1, "cannot be valid": 2, "safe": 3, "unknown": 4}


def _sentence(row, name: str, lang: str) -> str:
    p = row.pollutant
    unit = UNITS.get(p, "µg/m³")
    args = dict(unit=name, pollutant=pollutant_label(p, lang), u=unit, limit=fmt_value(row.limit, p),
                mean=fmt_value(row.mean_so_far, p), allow=fmt_value(row.allowance, p),
                recent=fmt_value(row.recent, p), r=int(row.hours_remaining), boundary=int(row.boundary),
                pct=fmt_value(row.reduction_pct, "aqi"))
    if row.hours_remaining == 0:
        key = "advice_done_over" if row.status == "already exceeded" else "advice_done_ok"
        return t(key, lang, **args)
    key = {"already exceeded": "advice_exceeded", "tight": "advice_tight", "safe": "advice_safe",
           "cannot be valid": "advice_invalid"}.get(row.status, "advice_unknown")
    return t(key, lang, **args)


def budget_advice(budgets: pd.DataFrame, names: dict[str, str], lang: str = "zh", *, boundary: int = 100) -> pd.DataFrame:
    """One sentence per jurisdiction for the ``boundary`` (default AQI 100, the good/polluted line).

    The pollutant that speaks for a unit is the most urgent one: already exceeded, then tight (the rest of the
    day must fall below its recent level), then the one closest to its limit.

    Returns
    -------
    DataFrame ``id``, ``name``, ``pollutant``, ``status``, ``sentence``, ordered most urgent first.
    """
    b = budgets[(budgets["scope"] == "jurisdiction") & (budgets["boundary"] == boundary)].copy()
    if b.empty:
        return pd.DataFrame(columns=["id", "name", "pollutant", "status", "sentence"])
    b["rank"] = b["status"].map(STATUS_ORDER).fillna(9)
    b["closeness"] = -(b["mean_so_far"] / b["limit"]).fillna(0)
    b = b.sort_values(["rank", "closeness"]).drop_duplicates("id")
    b["name"] = b["id"].map(lambda i: names.get(i, i))
    b["sentence"] = [_sentence(r, n, lang) for r, n in zip(b.itertuples(), b["name"], strict=True)]
    return b[["id", "name", "pollutant", "status", "sentence"]].reset_index(drop=True)
