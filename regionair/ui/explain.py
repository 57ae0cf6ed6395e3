"""'Explain this number': the derivation of a city daily value, one click away wherever such a value appears
(rankings, overview, warnings). The numbers come from :func:`regionair.analysis.evaluation.explain`; this
module only shows them, and registers them in the page's export bundle."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from regionair.analysis import evaluation as ev
from regionair.core import region
from regionair.core.i18n import EVAL_COLUMNS, category_name, fmt_value, primary_label, t
from regionair.ui import data, export
from regionair.ui.filters import Filters


def expander(f: Filters, units: list[str], days_of: Callable[[str], list], *, key: str) -> None:
    """An expander where the user picks a jurisdiction and a day (``days_of(unit)``, newest first) and reads how
    its daily value was computed: the stations counted and left out (and why), each station's daily values, the
    city mean per indicator with its IAQI, the rules and their clauses."""
    from regionair.ui import table  # the page frame's table (ui/__init__ imports this module)

    lang, names = f.lang, f.unit_names()
    jt = region.jurisdictions()
    level = dict(zip(jt["id"], jt["level"], strict=True))
    units = [u for u in units if level.get(u) == "jurisdiction"]  # sides and the region are not cities
    with st.expander(t("eval_explain", lang), icon=":material/calculate:"):
        e1, e2 = st.columns(2)
        unit = e1.selectbox(t("jurisdiction", lang), units, key=f"{key}_unit", format_func=lambda u: names.get(u, u))
        days = days_of(unit) if unit else []
        day = e2.selectbox(t("eval_day", lang), days, key=f"{key}_day", format_func=lambda d: f"{d:%Y-%m-%d}") if days else None
        x = ev.explain(unit, day, data.station_days(day, day), edition=f.edition) if day is not None else None
        if x is None or pd.isna(x.result["aqi"]):
            st.caption(t("eval_explain_none", lang))
            return
        n = int((x.stations["status"] == "counted").sum())
        st.markdown(t("eval_explain_result", lang, unit=names.get(unit, unit), date=f"{day:%Y-%m-%d}",
                      aqi=fmt_value(x.result["aqi"], "aqi"), category=category_name(x.result["level"], lang),
                      primary=primary_label(x.result["primary_pollutants"], lang), n=n, m=len(x.stations) - n))
        st.markdown(f"**{t('eval_stations_title', lang)}**")
        stations = x.stations.assign(name=x.stations[f"name_{lang}"],
                                     reasons=x.stations["reasons"].map(lambda r: ev.reason_text(r, lang)))
        table(stations, {"station": EVAL_COLUMNS["station"], "name": EVAL_COLUMNS["name"],
                         "status": EVAL_COLUMNS["status"], "reasons": EVAL_COLUMNS["reasons"],
                         **{p: (ev.indicator_label(p, "zh"), ev.indicator_label(p, "en")) for p in ev.INDICATORS}},
              lang)
        st.markdown(f"**{t('eval_city_title', lang)}**")
        city = x.city[x.city["scored"]].assign(indicator=lambda c: c["indicator"].map(lambda p: ev.indicator_label(p, lang)))
        table(city, {c: EVAL_COLUMNS[c] for c in ("indicator", "value", "n_stations", "iaqi", "primary")}, lang)
        st.markdown(f"**{t('eval_rules_title', lang)}**")
        rules = x.clauses().assign(rule=lambda r: r["rule"].map(lambda k: t(f"eval_rule_{k}", lang)),
                                   clause=lambda r: [t(f"eval_clause_{k}", lang) for k in x.rules])
        table(rules, {c: EVAL_COLUMNS[c] for c in ("rule", "clause", "found")}, lang)
        # the derivation goes into the page's export bundle too (data only)
        tag = f"explain_{unit}_{day:%Y%m%d}"
        export.register(None, x.stations, f"{tag}_stations", t("eval_stations_title", lang))
        export.register(None, x.city, f"{tag}_city", t("eval_city_title", lang))
        export.register(None, x.clauses(), f"{tag}_rules", t("eval_rules_title", lang))


def recent_days(f: Filters, days: int = 7) -> Callable[[str], list]:
    """``days_of`` for the overview and warnings pages: the complete natural days of the last week before the
    page's "now" that have a daily value (the running day is not a daily value yet)."""
    end = f.anchor - pd.Timedelta(hours=1)  # the natural day "now" belongs to …
    today = end.date()
    daily = data.unit_daily(f.anchor - pd.Timedelta(days=days), f.anchor, f.edition)
    daily = daily[daily["aqi"].notna()]
    if f.anchor.hour != 0:  # … is still running unless "now" is its closing 00:00
        daily = daily[pd.to_datetime(daily["date"]).dt.date < today]

    def days_of(unit: str) -> list:
        return sorted(daily.loc[daily["station"] == unit, "date"], reverse=True)

    return days_of
