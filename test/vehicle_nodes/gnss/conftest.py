"""GNSS test set-up: the realdata NMEA folder (also found from a git worktree via V2X_REALDATA)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope='session')
def nmea_dir() -> Path:
    """``../shared/realdata/nmea`` beside the repository (or under $V2X_REALDATA); else skip."""
    candidates = [ROOT.parent / 'shared' / 'realdata']
    if os.environ.get('V2X_REALDATA'):
        candidates.insert(0, Path(os.environ['V2X_REALDATA']))
    for base in candidates:
        if (base / 'nmea').is_dir():
            return base / 'nmea'
    pytest.skip(f'real-world NMEA logs not found in {[str(c) for c in candidates]}')
