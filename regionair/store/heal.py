"""A store that heals: damaged files found, named, quarantined and read around; store check."""

from __future__ import annotations





