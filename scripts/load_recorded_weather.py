"""Load the CONSTRUCTED Open-Meteo weather payloads into a store, so the transport page shows wind.

The files in tests/data/recorded/openmeteo_weather_*.json are constructed (no network here; see
tests/data/recorded/README_openmeteo_weather.md). They are stored under the source name
``constructed-demo`` so they can never be mistaken for downloaded data, and real Open-Meteo wind
(``open-meteo-archive`` / ``open-meteo-forecast``) takes precedence wherever both exist.

    .venv/bin/python scripts/load_recorded_weather.py                 # store from $REGIONAIR_STORE or data/store
    .venv/bin/python scripts/load_recorded_weather.py --store /tmp/s  # another store
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from regionair.sources.openmeteo import parse_weather  # noqa: E402
from regionair.store import Store  # noqa: E402

RECORDED = ROOT / "tests" / "data" / "recorded"
FILES = (RECORDED / "openmeteo_weather_2022-01.json", RECORDED / "openmeteo_weather_2026-03.json")
SOURCE = "constructed-demo"
#: (jurisdiction id, latitude, longitude) in the order of the payload list (as the constructor wrote it).
POINTS = [
    ("urumqi", 43.7819, 87.669), ("changji", 43.9909, 87.2623), ("fukang", 44.4067, 88.2633),
    ("hutubi", 44.2355, 86.7997), ("manas", 44.3685, 86.3038), ("wujiaqu", 44.122, 87.3829),
    ("shihezi", 44.2748, 86.0516), ("shawan", 44.3968, 85.5487),
]


def read_recorded(path):
    """Parse one constructed payload into the weather frame (``source = constructed-demo``)."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    return parse_weather(payload, POINTS, None, source=SOURCE)


def load(store: Store, paths=FILES) -> int:
    """Ingest the payloads; returns the number of rows added or updated (0 on a repeat run)."""
    changed = 0
    for p in paths:
        res = store.ingest_weather(read_recorded(p), run="load_recorded_weather")
        changed += res.added + res.updated
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default=None, help="store directory (default $REGIONAIR_STORE or data/store)")
    ap.add_argument("files", nargs="*", type=Path, help="payload files (default: both constructed files)")
    args = ap.parse_args(argv)
    with Store(args.store) as store:
        n = load(store, args.files or FILES)
    print(f"constructed weather loaded: {n} row(s) added/updated (source {SOURCE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
