"""What a user reads on a page, as plain strings, and the checks the words test applies to them.

Walks an AppTest run: text elements, captions, alerts, metrics, widget labels and options, dataframe headers
(the ``column_config`` label where there is one) and text cells, and the plotly figures' titles, axis titles,
legend entries, annotations and colour-bar titles.
"""

from __future__ import annotations

import json
import re

import pandas as pd

#: Latin words allowed in the Chinese UI: units, file formats, standards' names and proper names.
ALLOWED_LATIN = {
    "aqi", "iaqi", "pm", "so", "no", "co", "o", "µg", "ug", "mg", "m", "km", "h", "csv", "xlsx", "png", "svg", "docx",
    "pdf", "html", "zip", "json", "hj", "gb", "cnemc", "cams", "open", "meteo", "openaq", "waqi", "utc", "url",
    "quotsoft", "regionair", "min", "s", "ms", "id",
}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
MISSING = re.compile(r"(?<![A-Za-z])(None|nan|NaN|NaT|<NA>|null|undefined)(?![A-Za-z])")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[a-z][a-z]+(?![A-Za-z0-9])")
_URLISH = re.compile(r"https?://\S+|\?[a-z_]+=\S*|`[^`]*`|:[a-z]+(-background)?\[|:material/[a-z_]+:")


def _texts_of_figure(spec: dict) -> list[tuple[str, str]]:
    out = []
    layout = spec.get("layout", {})

    def title(obj):
        t = (obj or {}).get("title")
        return t.get("text") if isinstance(t, dict) else t

    if title(layout):
        out.append(("chart title", title(layout)))
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key) and title(axis):
            out.append((f"chart {key} title", title(axis)))
        if re.fullmatch(r"[xy]axis\d*", key) and axis.get("ticktext"):
            out += [(f"chart {key} tick", str(v)) for v in axis["ticktext"]]
    for a in layout.get("annotations", []):
        if a.get("text"):
            out.append(("chart annotation", a["text"]))
    for tr in spec.get("data", []):
        if tr.get("name") and tr.get("showlegend", True) is not False:
            out.append(("chart legend", str(tr["name"])))
        cb = (tr.get("colorbar") or (tr.get("marker") or {}).get("colorbar"))
        if cb and title(cb):
            out.append(("chart colour bar", title(cb)))
        if isinstance(tr.get("x"), list) and tr.get("type") in ("bar", "heatmap") and tr["x"] and isinstance(tr["x"][0], str):
            out += [("chart category", str(v)) for v in tr["x"]]
        if isinstance(tr.get("y"), list) and tr.get("type") in ("bar", "heatmap") and tr["y"] and isinstance(tr["y"][0], str):
            out += [("chart category", str(v)) for v in tr["y"]]
    return out


def _dataframe_texts(el) -> list[tuple[str, str]]:
    out = []
    df = el.value
    config = {}
    try:
        config = json.loads(el.proto.columns or "{}")
    except (ValueError, AttributeError):
        pass
    for c in df.columns:
        label = (config.get(f"col:{c}") or config.get(str(c)) or {}).get("label") or str(c)
        out.append(("table header", label))
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            if col.head(200).isna().any():  # Streamlit draws a missing number as a grey "None"
                out.append(("table cell", "None"))
            continue
        for v in col.head(200):
            if v is None or (isinstance(v, float) and pd.isna(v)):
                out.append(("table cell", "None"))
            else:
                out.append(("table cell", str(v)))
    return out


def page_texts(at) -> list[tuple[str, str]]:
    """(where, text) for everything the page shows."""
    out: list[tuple[str, str]] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "exception"):
        for el in getattr(at, kind, []):
            out.append((kind, str(el.value)))
    for m in at.metric:
        out += [("metric label", str(m.label)), ("metric value", str(m.value))]
        if m.delta is not None:
            out.append(("metric delta", str(m.delta)))
    for kind in ("selectbox", "multiselect", "radio", "select_slider"):
        for w in getattr(at, kind, []):
            out.append((f"{kind} label", str(w.label)))
            fmt = getattr(w, "format_func", None)
            for o in w.options:
                out.append((f"{kind} option", str(o if fmt is None else o)))
    for kind in ("checkbox", "toggle", "button", "text_input", "number_input", "date_input", "time_input",
                 "text_area", "slider"):
        for w in getattr(at, kind, []):
            out.append((f"{kind} label", str(w.label)))
    for el in at.get("download_button"):
        out.append(("download label", str(getattr(el.proto, "label", ""))))
    for el in at.dataframe:
        out += _dataframe_texts(el)
    for el in at.get("table"):
        try:
            out += _dataframe_texts(el)
        except AttributeError:
            pass
    for el in at.get("plotly_chart"):
        out += _texts_of_figure(json.loads(el.proto.spec))
    return out


def problems(texts: list[tuple[str, str]], lang: str) -> list[str]:
    """Raw identifiers, missing-value spellings and (in the Chinese UI) untranslated Latin words."""
    found = []
    for where, text in texts:
        plain = _URLISH.sub(" ", re.sub(r"<[^>]+>", " ", text))
        for m in SNAKE.findall(plain):
            found.append(f"{where}: identifier {m!r} in {text[:80]!r}")
        for m in MISSING.findall(plain):
            found.append(f"{where}: missing value spelt {m!r} in {text[:80]!r}")
        if lang == "zh":
            for w in LATIN_WORD.findall(plain):
                if w not in ALLOWED_LATIN:
                    found.append(f"{where}: Latin word {w!r} in the Chinese UI in {text[:80]!r}")
    return sorted(set(found))
