"""Shared test set-up: small components for runtime tests, and the realdata folder."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = Path(__file__).resolve().parent / 'support'
sys.path.insert(0, str(SUPPORT))


@pytest.fixture(scope='session')
def realdata() -> Path:
    """``../shared/realdata`` beside the repository; tests using it skip where it is absent."""
    path = ROOT.parent / 'shared' / 'realdata'
    if not path.is_dir():
        pytest.skip(f'real-world test data not found at {path} (it lives outside the repository)')
    return path
