"""One write: new files under temporary names, then one atomic manifest commit (:class:`_Commit`)."""

from __future__ import annotations

import contextlib
import os
import time as _time
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from regionair.store.layout import Snapshot, _dump, _fsync_dir, _now, _parquet_bytes, _write_bytes_atomic
from regionair.store.schema import _DATA_KINDS, _ISO, _TMP_PREFIX, GRACE_SECONDS, MANIFEST, MANIFEST_BAK

if TYPE_CHECKING:  # the facade, for annotations only
    from regionair.store import Store


# --------------------------------------------------------------------------------------------
# the write transaction
# --------------------------------------------------------------------------------------------
class _Commit:
    """Files written by one write operation and the manifest that will list them."""

    def __init__(self, store: Store, base: Snapshot):
        self.store = store
        self.base = base
        self.added: list[dict] = []
        self.retire: set[str] = set()
        self.created: list[Path] = []
        self.dirs: set[Path] = set()
        self.data_changed = False
        self.result: Snapshot | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.retire)

    @property
    def next_version(self) -> int:
        """Version the commit will get (a recovered manifest skips one: the lost version)."""
        return self.base.version + (2 if self.base.recovered else 1)

    def live(
        self, kind: str, source: str | None = None, month: str | None = None, table: str | None = None
    ) -> list[dict]:
        out = []
        for f in [*self.base.files, *self.added]:
            if f["path"] in self.retire or f["kind"] != kind:
                continue
            if source is not None and f.get("source") != source:
                continue
            if month is not None and f.get("month") != month:
                continue
            if table is not None and f.get("table") != table:
                continue
            out.append(f)
        return out

    def write(self, rel_dir: str, table: pa.Table, entry: dict) -> dict:
        root = self.store.root
        name = f"part-{uuid.uuid4().hex}.parquet"
        rel = f"{rel_dir}/{name}"
        target = self.store._resolve(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = _parquet_bytes(table)
        tmp = target.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}.parquet"
        self.created.append(tmp)
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        self.created.append(target)
        d = target.parent  # fsync the file's directory and its parents (new directories) at commit
        while d != root and d not in self.dirs:
            self.dirs.add(d)
            d = d.parent
        entry = {
            "path": rel,
            **entry,
            "rows": table.num_rows,
            "bytes": len(data),
            "created_at": _now().strftime(_ISO),
        }
        self.added.append(entry)
        if entry["kind"] in _DATA_KINDS:
            self.data_changed = True
        return entry

    def commit(self) -> Snapshot:
        now = _time.time()
        files = [f for f in self.base.files if f["path"] not in self.retire] + self.added
        retired = [r for r in self.base.retired if now - r["retired_at"] < GRACE_SECONDS]
        retired += [{"path": p, "retired_at": now, "version": self.next_version} for p in sorted(self.retire)]
        if any(p.split("/", 1)[0] in _DATA_KINDS for p in self.retire):
            self.data_changed = True
        bump = self.next_version - self.base.version
        snap = Snapshot(
            version=self.next_version,
            data_version=self.base.data_version + (bump if self.data_changed else 0),
            committed_at=_now().strftime(_ISO),
            files=tuple(files),
            retired=tuple(retired),
        )
        root = self.store.root
        for d in sorted(self.dirs, key=lambda p: len(p.parts), reverse=True):
            _fsync_dir(d)
        if self.base.version > 0:
            _write_bytes_atomic(root / MANIFEST_BAK, _dump(self.base))
        _write_bytes_atomic(root / MANIFEST, _dump(snap))
        self.result = snap  # committed: from here on nothing may be rolled back
        try:
            _fsync_dir(root)
        except OSError as exc:
            warnings.warn(
                f"store version {snap.version} is committed but {root} could not be fsynced ({exc.strerror}); "
                "it may be lost if the machine crashes now",
                stacklevel=4,
            )
        return snap

    def abort(self) -> None:
        """Delete this operation's files, unless its manifest was committed."""
        if self.result is not None:
            return
        for p in self.created:
            with contextlib.suppress(OSError):
                os.unlink(p)
