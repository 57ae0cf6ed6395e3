"""One exception hierarchy. Messages name the file/argument, the bad value, what is allowed, and a hint."""

from __future__ import annotations


class RegionairError(Exception):
    """Base class of every error RegionAir raises on purpose."""


class InputError(RegionairError, ValueError):
    """Bad input data or argument.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    path, line, column : optional
        Where it is wrong (1-based line numbers as an editor shows them).
    """

    def __init__(self, message: str, *, path=None, line: int | None = None, column: str | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        where = []
        if self.path:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.detail = message


class SourceError(RegionairError):
    """A data source failed (HTTP status, rate limit, unparseable payload)."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        self.url = url
        self.status = status
        super().__init__(message)


class NotPublished(SourceError):
    """The source has no data for the requested hour/day (e.g. HTTP 404): a gap, not a failure."""


class StoreError(RegionairError):
    """The store cannot be read or written (locked, read-only, corrupt, disk full)."""


class ConfigError(InputError):
    """A configuration file is wrong (``.streamlit/secrets.toml``, the account file, a sign-in setting).

    Sign-in fails closed on it: the app stops with the message instead of guessing. ``problems`` lists
    every defect found, each naming the file, line and column and the fix.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class Cancelled(BaseException):  # noqa: N818 - like KeyboardInterrupt: not an error, a request to stop
    """The operation was stopped on purpose (``watch`` received SIGTERM; :meth:`HttpClient.cancel`).

    A ``BaseException`` so that ``except RegionairError``/``except Exception`` handlers that turn a
    failed hour into a recorded gap let it through: nothing is recorded, the caller just stops.
    """
