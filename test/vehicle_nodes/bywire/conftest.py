"""Shared fixtures of the by-wire tests."""

from __future__ import annotations

import itertools

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
