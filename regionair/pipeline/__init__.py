"""Ingest runs: sources -> plausibility -> store, resumable, with run summaries."""
