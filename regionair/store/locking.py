"""The writer lock, transactions and garbage collection of unreferenced files."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time as _time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from regionair.errors import StoreError
from regionair.store.commit import _Commit
from regionair.store.derived import _hourly_months
from regionair.store.layout import Snapshot, _now
from regionair.store.schema import _DIRS, _ISO, _PART_RE, _TMP_PREFIX, ENV_VAR, LOCK_FILE

if TYPE_CHECKING:  # the facade, for annotations only
    from regionair.store import Store


class _LockingMixin:
    """The writer lock, transactions and garbage collection of unreferenced files. (a part of :class:`regionair.store.Store`)."""

    # ---------------------------------------------------------------- locking
    def _os_error(self, exc: OSError, action: str) -> StoreError:
        where = exc.filename or self.root
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            msg = (
                f"cannot {action}: the store directory {self.root} is not writable ({exc.strerror}: {where}). "
                f"The store is unchanged and can still be read. Hint: fix the permissions, or point --store / "
                f"{ENV_VAR} at a writable directory"
            )
        elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            msg = (
                f"cannot {action}: disk full or file-size limit reached while writing {where} ({exc.strerror}). "
                "The store is unchanged (the partial files were removed). Hint: free disk space and re-run; "
                "ingests are idempotent"
            )
        else:
            msg = f"cannot {action} in {self.root}: {exc.strerror or exc} ({where})"
        err = StoreError(msg)
        err.errno = exc.errno  # type: ignore[attr-defined]
        return err

    @contextlib.contextmanager
    def writer(self, timeout: float | None = None) -> Iterator[Store]:
        """Hold the store's write lock (re-entrant within this instance).

        Parameters
        ----------
        timeout : float, optional
            Wait at most this long for another writer [s]; default ``lock_timeout``.

        Raises
        ------
        StoreError
            Another process holds the lock past the timeout ("another ingest is running (pid …)"),
            or the directory cannot be created or written.
        """
        with self._wlock:
            if self._wdepth == 0:
                self._acquire(self.lock_timeout if timeout is None else float(timeout))
            self._wdepth += 1
            try:
                yield self
            finally:
                self._wdepth -= 1
                if self._wdepth == 0:
                    self._release()

    def _acquire(self, timeout: float) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._os_error(exc, "open the store for writing") from exc
        deadline = _time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _time.monotonic() >= deadline:
                    try:
                        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
                    finally:
                        os.close(fd)
                    pid = holder[0] if holder else "unknown"
                    where = f" on {holder[1]}" if len(holder) > 1 else ""
                    since = f", holding the lock since {holder[2]}" if len(holder) > 2 else ""
                    raise StoreError(
                        f"another ingest is running (pid {pid}{where}{since}) on the store {self.root}; waited "
                        f"{timeout:g} s for its lock. Hint: wait for it to finish and retry"
                    ) from None
                _time.sleep(min(0.05, max(0.0, deadline - _time.monotonic())))
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {_now().strftime(_ISO)}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise self._os_error(exc, "take the write lock") from exc
        self._lock_fd = fd

    def _release(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # releases the flock

    @contextlib.contextmanager
    def _transaction(self, action: str) -> Iterator[_Commit]:
        with self.writer():
            base = self._load()
            txn = _Commit(self, base)
            try:
                yield txn
                if txn.changed:
                    txn.commit()
            except OSError as exc:
                txn.abort()
                raise self._os_error(exc, action) from exc
            except BaseException:
                txn.abort()
                raise
            self._collect_garbage(txn.result or base, derived_months=_hourly_months(txn.retire))

    def _collect_garbage(self, snap: Snapshot, derived_months: set[str] | None = None) -> int:
        """Delete files no committed state refers to (temporary files of killed writers, files
        retired more than GRACE_SECONDS ago) and stale derived files (of ``derived_months``, or all
        when None). Only called while holding the lock."""
        keep = {f["path"] for f in snap.files} | {r["path"] for r in snap.retired}
        removed = 0
        for d in _DIRS:
            top = self.root / d
            if not top.is_dir():
                continue
            for dirpath, _dirnames, filenames in os.walk(top, topdown=False):
                for name in filenames:
                    if not (name.startswith(_TMP_PREFIX) or _PART_RE.match(name)):
                        continue
                    full = Path(dirpath, name)
                    rel = full.relative_to(self.root).as_posix()
                    if rel in keep:
                        continue
                    try:
                        full.unlink()
                        removed += 1
                    except FileNotFoundError:
                        pass
                    except OSError as exc:
                        warnings.warn(f"could not delete unreferenced store file {full}: {exc}", stacklevel=3)
                if dirpath != str(top):
                    with contextlib.suppress(OSError):
                        os.rmdir(dirpath)  # only succeeds when empty
        for p in self.root.glob(f"{_TMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed += 1
        return removed + self._prune_derived(snap, derived_months)

    def gc(self) -> int:
        """Delete leftovers of killed writers and files retired long enough ago.

        Returns
        -------
        int
            Files deleted.
        """
        with self.writer():
            return self._collect_garbage(self._load())
