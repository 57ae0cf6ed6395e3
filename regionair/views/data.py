"""What the data page shows that is not a chart: how an upload meets what is already stored."""

from __future__ import annotations

import pandas as pd


def published_overlap(store, frame: pd.DataFrame) -> int:
    """How many of ``frame``'s station-hours a network has already published in ``store`` (any source but an
    upload): the values an upload would replace on every page (``SOURCE_PRECEDENCE`` puts uploads first)."""
    if frame is None or frame.empty:
        return 0
    keys = frame[["station", "time"]].dropna().drop_duplicates()
    if keys.empty:
        return 0
    stored = store.hourly(keys["time"].min(), keys["time"].max(), stations=sorted(keys["station"].unique()),
                          columns=())
    stored = stored[stored["source"] != "upload"][["station", "time"]].drop_duplicates()
    return int(len(keys.merge(stored, on=["station", "time"])))
