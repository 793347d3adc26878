"""Codec tests: a private schema cache directory, and the schema compiled before hypothesis
starts (compiling raises the recursion limit, which hypothesis would warn about)."""

from __future__ import annotations

import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix='v2x-codec-cache-')
os.environ['V2X_CODEC_CACHE_DIR'] = _CACHE

from v2x_nodes.codec.schema import load_schema  # noqa: E402

load_schema()
