"""GNSS test set-up: the realdata NMEA folder (also found from a git worktree via V2X_REALDATA)."""

from pathlib import Path

import pytest


@pytest.fixture(scope='session')
def nmea_dir(realdata: Path) -> Path:
    """``realdata/nmea`` (see the realdata fixture in test/conftest.py)."""
    if not (realdata / 'nmea').is_dir():
        pytest.skip(f'no nmea/ folder in {realdata}')
    return realdata / 'nmea'
