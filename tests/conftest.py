"""Shared fixtures: the real CNEMC rows for the region (tests/data, copied from shared/data/cnemc)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CNEMC_2022_01_01 = DATA / "region_2022-01-01.csv"
CNEMC_2022_01_02_03 = DATA / "region_2022-01-02_03.csv"
CNEMC_2026_03_10 = DATA / "region_2026-03-10.csv"


@pytest.fixture(scope="session")
def cnemc_2022_01_01_region():
    from regionair.sources.cnemc_archive import read_archive

    return read_archive(CNEMC_2022_01_01)


@pytest.fixture(scope="session")
def cnemc_2022_region():
    """2022-01-01 T00 … 2022-01-04 T00: natural days 01-01, 01-02 and 01-03 complete."""
    from regionair.sources.cnemc_archive import read_archive

    return read_archive([CNEMC_2022_01_01, CNEMC_2022_01_02_03])


@pytest.fixture(scope="session")
def cnemc_2026_03_10_region():
    from regionair.sources.cnemc_archive import read_archive

    return read_archive(CNEMC_2026_03_10)


@pytest.fixture
def server():
    """A scripted local HTTP server (tests/httpfake.py); loader tests never touch the network."""
    from tests.httpfake import FakeServer

    with FakeServer() as srv:
        yield srv


@pytest.fixture
def no_chromium(tmp_path, monkeypatch):
    """A machine without any browser (and without fontconfig): nothing on PATH, none at the usual places, no
    browser variable. Shared by the deadline and doctor tests."""
    from regionair.render import bundle

    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(bundle, "TYPICAL_PATHS", ())
    monkeypatch.delenv("REGIONAIR_CHROMIUM", raising=False)
    monkeypatch.delenv("BROWSER_PATH", raising=False)

    bundle.reset_render_failures()
    yield empty
    bundle.reset_render_failures()


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory):
    """A store holding the bundled real sample (data/sample), for tests that only read it."""
    from regionair.sources.cnemc_archive import read_archive
    from regionair.store import Store

    path = tmp_path_factory.mktemp("sample_store")
    Store(path).ingest_hourly(read_archive(Path(__file__).resolve().parents[1] / "data" / "sample"), source="cnemc-archive")
    return path
