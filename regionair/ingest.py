"""Ingestion: sources → store, and the ``ingest``/``export``/``status``/``watch`` commands."""

from __future__ import annotations


def add_commands(sub) -> None:
    """Register the store commands on the CLI's sub-parsers."""
