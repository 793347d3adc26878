"""Fixtures of the security tests: the PKI of each algorithm, made once per session."""

from __future__ import annotations

import pytest
from security_pki import Pki, make_pki

from v2x_nodes.security import Algorithm

_CACHE: dict[Algorithm, Pki] = {}


@pytest.fixture(params=list(Algorithm), ids=[a.value for a in Algorithm])
def pki(request: pytest.FixtureRequest) -> Pki:
    """The PKI of each algorithm (key generation is the slow part, so it is shared)."""
    algorithm = request.param
    if algorithm not in _CACHE:
        _CACHE[algorithm] = make_pki(algorithm)
    return _CACHE[algorithm]
