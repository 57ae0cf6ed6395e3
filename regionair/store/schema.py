"""Store names, limits and table schemas (the on-disk format; FORMAT versions it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from regionair.core.nomenclature import POLLUTANTS, PROVENANCE_COLUMNS

#: Environment variable naming the store directory (overridden by ``--store``).
ENV_VAR = "REGIONAIR_STORE"


#: Replaced files are kept this long [s] for readers still holding an older snapshot.
GRACE_SECONDS = 600.0


#: Default time a writer waits for another writer's lock [s].
LOCK_TIMEOUT = 30.0


MANIFEST = "manifest.json"


MANIFEST_BAK = "manifest.json.bak"


LOCK_FILE = ".lock"


FORMAT = 1


#: Rows per Parquet row group: files are sorted by (station, time), so a station filter skips
#: most row groups through their min/max statistics.
ROW_GROUP_SIZE = 32_768


#: A partition with more files than this is compacted into one on its next write.
MAX_PARTITION_FILES = 8


#: A record table with more files than this is compacted into one on its next append.
MAX_RECORD_FILES = 32


#: Folder (under the root) of derived results: caches rebuilt from the data, outside the manifest.
DERIVED_DIR = "derived"


#: Version of the derived area-mean files; bump when their computation or layout changes.
AREA_MEANS_FORMAT = 1


_AREA_DIR = f"area_means-v{AREA_MEANS_FORMAT}"


_AREA_FILE_RE = re.compile(r"^[0-9a-f]{20}-[0-9a-f]{20}\.arrow$")


_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


_PART_RE = re.compile(r"^part-[0-9a-f]{32}\.parquet$")


_TMP_PREFIX = ".tmp-"


_ISO = "%Y-%m-%dT%H:%M:%SZ"


_TS = pa.timestamp("us", tz="UTC")


_DUCK_TYPES = {"string": "VARCHAR", "double": "DOUBLE", "int32": "INTEGER", str(_TS): "TIMESTAMPTZ"}


_META_FIELDS = (
    pa.field("ingest_id", pa.string()),
    pa.field("ingested_at", _TS),
    pa.field("revision", pa.int32()),
)


META_COLUMNS: tuple[str, ...] = tuple(f.name for f in _META_FIELDS)


_PROVENANCE_TYPES: dict[str, pa.DataType] = {
    "not_monitored": pa.string(),
    "published_primary": pa.string(),
    "station_name": pa.string(),
    "area": pa.string(),
}


def _provenance_type(name: str) -> pa.DataType:
    return _PROVENANCE_TYPES.get(name, pa.float64())


#: Schema of stored measurement rows (canonical hourly frame + provenance + ingest metadata).
HOURLY_SCHEMA = pa.schema(
    [pa.field("station", pa.string()), pa.field("time", _TS)]
    + [pa.field(p, pa.float64()) for p in POLLUTANTS]
    + [pa.field("source", pa.string())]
    + [pa.field(c, _provenance_type(c)) for c in PROVENANCE_COLUMNS]
    + list(_META_FIELDS)
)


#: Schema of a derived area-means file (one month; sorted by station = unit id, then time).
AREA_SCHEMA = pa.schema(
    [pa.field("station", pa.string()), pa.field("time", _TS)]
    + [pa.field(p, pa.float64()) for p in POLLUTANTS]
    + [pa.field(f"n_{p}", pa.int64()) for p in POLLUTANTS]
)


REVISION_SCHEMA = pa.schema(
    list(HOURLY_SCHEMA) + [pa.field("replaced_at", _TS), pa.field("replaced_by", pa.string())]
)


GAPS_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("time", _TS),
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
        *_META_FIELDS,
    ]
)


_MODEL_KEY_FIELDS = (
    pa.field("source", pa.string()),
    pa.field("model", pa.string()),
    pa.field("point", pa.string()),
    pa.field("run_time", _TS),
    pa.field("time", _TS),
)


@dataclass(frozen=True)
class _Kind:
    """How one dataset kind is keyed and stored."""

    name: str
    key: tuple[str, ...]  # upsert key
    nullable_key: tuple[str, ...]  # key columns that may be null (compared with IS NOT DISTINCT FROM)
    entity: str | None  # station / point column (sort order, required non-null)
    schema: pa.Schema | None  # fixed schema, or None: key fields + any float64 columns
    valid: tuple[str, ...] = ()  # a row is "valid" when one of these is not null (latest, keys)
    keep_revisions: bool = False
    forbidden: tuple[str, ...] = ()  # columns that betray the wrong kind of data


_HOURLY = _Kind(
    "hourly",
    key=("source", "station", "time"),
    nullable_key=(),
    entity="station",
    schema=HOURLY_SCHEMA,
    valid=POLLUTANTS,
    keep_revisions=True,
    forbidden=("run_time", "point", "model"),
)


_MODEL_AQ = _Kind(
    "model_aq",
    key=("source", "model", "point", "run_time", "time"),
    nullable_key=("model", "run_time"),
    entity="point",
    schema=None,
    forbidden=("station",),
)


_WEATHER = _Kind(
    "weather",
    key=("source", "model", "point", "run_time", "time"),
    nullable_key=("model", "run_time"),
    entity="point",
    schema=None,
    forbidden=("station",),
)


_GAPS = _Kind("gaps", key=("source", "time"), nullable_key=(), entity=None, schema=GAPS_SCHEMA)


_KINDS = {k.name: k for k in (_HOURLY, _MODEL_AQ, _WEATHER, _GAPS)}


_DIRS = ("hourly", "revisions", "model_aq", "weather", "gaps", "records")


_DATA_KINDS = frozenset({"hourly", "revisions", "model_aq", "weather", "gaps"})


_LOG_SCHEMA = pa.schema(
    [
        pa.field("ingest_id", pa.string()),
        pa.field("run", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("source", pa.string()),
        pa.field("start", _TS),
        pa.field("end", _TS),
        pa.field("rows", pa.int64()),
        pa.field("added", pa.int64()),
        pa.field("updated", pa.int64()),
        pa.field("unchanged", pa.int64()),
        pa.field("rejected", pa.int64()),
        pa.field("rejected_reasons", pa.string()),
        pa.field("errors", pa.string()),
        pa.field("status", pa.string()),
        pa.field("started_at", _TS),
        pa.field("finished_at", _TS),
        pa.field("duration_s", pa.float64()),
        pa.field("version", pa.int64()),
        pa.field("pid", pa.int64()),
        pa.field("note", pa.string()),
    ]
)


# --------------------------------------------------------------------------------------------
# derived area means (module docstring, "Derived results")
# --------------------------------------------------------------------------------------------
_HOURLY_MONTH_RE = re.compile(r"^hourly/source=[^/]+/month=(\d{4}-\d{2})/")
