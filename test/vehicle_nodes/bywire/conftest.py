"""Shared fixtures of the by-wire tests."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from vehicle_nodes.bywire.codec import FrameCodec
from vehicle_nodes.bywire.kit import default_codec

_channels = itertools.count()


@pytest.fixture
def codec() -> FrameCodec:
    """A fresh codec of the shipped kit DBC (own E2E counters per test)."""
    return default_codec()


@pytest.fixture
def channel(request: pytest.FixtureRequest) -> str:
    """A virtual CAN channel name no other test uses (python-can virtual buses are global)."""
    return f'bywire-{request.node.name}-{next(_channels)}'


def _repository_roots() -> list[Path]:
    """This checkout's root and, for a git worktree, the main checkout's root."""
    root = Path(__file__).resolve().parents[3]
    roots = [root]
    dot_git = root / '.git'
    if dot_git.is_file():  # a worktree: "gitdir: <main>/.git/worktrees/<name>"
        text = dot_git.read_text().strip()
        if text.startswith('gitdir:'):
            gitdir = Path(text.split(':', 1)[1].strip())
            roots.append(gitdir.parents[1].parent)
    return roots


@pytest.fixture
def realdata() -> Path:
    """../shared/realdata next to the repository; skips with the reason when absent."""
    tried = []
    for root in _repository_roots():
        path = (root / '..' / 'shared' / 'realdata').resolve()
        if path.is_dir():
            return path
        tried.append(str(path))
    pytest.skip(f'realdata not present (looked in {", ".join(tried)})')
