"""Shared test set-up: small components for runtime tests, the realdata folder, and a ROS
domain of this process's own (parallel workers and concurrent runs never share one)."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = Path(__file__).resolve().parent / 'support'
sys.path.insert(0, str(SUPPORT))

import ros_domains  # noqa: E402  (from test/support, just put on the path)
from hypothesis import settings  # noqa: E402

# No Hypothesis deadlines: a per-example time limit is a timing assertion, and with two xdist
# workers on a shared 2-core machine one example took 327 ms against the 200 ms default.
settings.register_profile('v2x', deadline=None)
settings.load_profile('v2x')


def pytest_configure(config: pytest.Config) -> None:
    """ROS_DOMAIN_ID for whatever reads the environment (launch files, rclpy.init() without a
    domain, processes the tests start): one this process holds, never a neighbour's."""
    os.environ['ROS_DOMAIN_ID'] = str(ros_domains.process_domain())


def _realdata_candidates() -> list[Path]:
    """$V2X_REALDATA, ../shared/realdata beside this checkout, and beside the main checkout
    when this is a git worktree (its .git file says ``gitdir: <main>/.git/worktrees/<name>``).
    """
    candidates = [Path(os.environ['V2X_REALDATA'])] if os.environ.get('V2X_REALDATA') else []
    candidates.append(ROOT.parent / 'shared' / 'realdata')
    dot_git = ROOT / '.git'
    if dot_git.is_file():
        gitdir = Path(dot_git.read_text().split(':', 1)[1].strip())
        candidates.append(gitdir.parents[2].parent / 'shared' / 'realdata')
    return candidates


@pytest.fixture(scope='session')
def realdata() -> Path:
    """The real-world test data (it lives outside the repository); skips where absent."""
    candidates = _realdata_candidates()
    for path in candidates:
        if path.is_dir():
            return path
    pytest.skip(f'real-world test data not found (looked in {[str(c) for c in candidates]})')
