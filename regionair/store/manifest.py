"""The manifest: reading, validating and healing it; snapshots and versions."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from regionair.errors import StoreError
from regionair.store.layout import Snapshot
from regionair.store.schema import _DIRS, FORMAT, MANIFEST, MANIFEST_BAK


class _ManifestMixin:
    """The manifest: reading, validating and healing it; snapshots and versions. (a part of :class:`regionair.store.Store`)."""

    # ---------------------------------------------------------------- manifest
    def _resolve(self, rel: str) -> Path:
        """Absolute path of a store-relative path, refusing anything outside the store."""
        parts = rel.split("/")
        if (
            not rel
            or rel.startswith("/")
            or "\\" in rel
            or any(p in ("", ".", "..") for p in parts)
            or parts[0] not in _DIRS
        ):
            raise StoreError(f"store path {rel!r} is outside the store's data directories ({self.root})")
        return self.root.joinpath(*parts)

    def _parse_manifest(self, raw: bytes, name: str) -> Snapshot:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(
                f"unknown manifest format {doc.get('format') if isinstance(doc, dict) else doc!r}"
            )
        version = doc["version"]
        if not isinstance(version, int) or version < 0:
            raise ValueError(f"bad version {version!r}")
        files = doc["files"]
        for f in files:
            if not isinstance(f, dict) or "path" not in f or "kind" not in f:
                raise ValueError(f"bad file entry {f!r}")
            self._resolve(f["path"])
        retired = doc.get("retired", [])
        for r in retired:
            self._resolve(r["path"])
            float(r["retired_at"])
        return Snapshot(
            version=version,
            data_version=int(doc.get("data_version", version)),
            committed_at=doc.get("committed_at"),
            files=tuple(files),
            retired=tuple(retired),
        )

    def _read_raw(self) -> bytes | None:
        path = self.root / MANIFEST
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(
                f"cannot read {path}: {exc.strerror}. Hint: check the permissions of the store"
            ) from exc

    def _from_raw(self, raw: bytes | None) -> Snapshot:
        """Parse manifest bytes, or recover from the backup when they are corrupt."""
        if raw is None:
            return Snapshot()
        path = self.root / MANIFEST
        try:
            return self._parse_manifest(raw, MANIFEST)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, StoreError) as exc:
            cause = exc
        bak = self.root / MANIFEST_BAK
        try:
            snap = self._parse_manifest(bak.read_bytes(), MANIFEST_BAK)
        except FileNotFoundError:
            raise StoreError(
                f"{path} is corrupt ({cause}) and there is no {MANIFEST_BAK} to recover from. Hint: restore the "
                "store directory from a backup, or move it aside and re-ingest"
            ) from cause
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, StoreError) as exc:
            raise StoreError(
                f"{path} is corrupt ({cause}) and {bak} too ({exc}). Hint: restore the store directory from a "
                "backup, or move it aside and re-ingest"
            ) from exc
        if self._warned_raw != raw:
            self._warned_raw = raw
            warnings.warn(
                f"{path} is corrupt ({cause}); using {MANIFEST_BAK} (version {snap.version}). The last commit is "
                "lost: re-run the last ingest. The next write repairs the manifest.",
                stacklevel=4,
            )
        return Snapshot(
            snap.version, snap.data_version, snap.committed_at, snap.files, snap.retired, recovered=True
        )

    def _load(self) -> Snapshot:
        """The committed state as on disk now (no cache)."""
        return self._from_raw(self._read_raw())

    def snapshot(self) -> Snapshot:
        """The current committed state (parsed again only when ``manifest.json`` changed).

        Returns
        -------
        Snapshot
            Pass it as ``snapshot=`` to several queries to read one consistent version.
        """
        raw = self._read_raw()  # small; comparing bytes is exact, unlike mtime/inode
        with self._snap_lock:
            if self._snap is not None and raw == self._snap_raw:
                return self._snap
            snap = self._from_raw(raw)
            self._snap, self._snap_raw = snap, raw
            return snap

    @property
    def version(self) -> int:
        """Manifest version [–]: changes with every commit; a cache key for queries."""
        return self.snapshot().version

    @property
    def data_version(self) -> int:
        """Version of the data only [–]: unchanged by log/record appends."""
        return self.snapshot().data_version
