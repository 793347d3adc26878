"""Row selection of point arrays (N, C) by mask or index, as items of C x itemsize bytes.

numpy copies a boolean or fancy selection of a 2-D array element by element on a generic path;
seen as one opaque item per row, the same bytes move in one pass. On a frame of 3 float32
columns: ``select_rows`` takes a third of the time of ``np.compress(..., axis=0)`` and a tenth
of ``pts[mask]`` (on the pipeline's own masks, whose kept points come in runs).
``take_rows`` is ``take`` along the rows: a fifth of ``pts[idx]``. The results are the same
arrays.
"""

from __future__ import annotations

import numpy as np

_ROW_DTYPES: dict[int, np.dtype] = {}  # opaque row dtype by row size (a handful of sizes)


def _row_items(pts: np.ndarray) -> np.ndarray | None:
    """``pts`` viewed as (N,) opaque rows, or None when it cannot be (not 2-D C-contiguous)."""
    size = pts.shape[1] * pts.itemsize if pts.ndim == 2 else 0
    if size == 0 or not pts.flags.c_contiguous:
        return None
    row = _ROW_DTYPES.get(size)
    if row is None:
        row = np.dtype((np.void, size))
        if len(_ROW_DTYPES) < 64:
            _ROW_DTYPES[size] = row
    return pts.view(row).ravel()


def select_rows(mask: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``pts[mask]`` for a boolean ``mask`` (N,)."""
    items = _row_items(pts)
    if items is None:
        return np.compress(mask, pts, axis=0)
    return items[mask].view(pts.dtype).reshape(-1, pts.shape[1])


def take_rows(pts: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``pts[idx]`` for an integer index array ``idx``: ``take`` along the rows, which copies
    whole rows (half the time of the opaque-item gather, a fifth of ``pts[idx]``)."""
    return pts.take(idx, axis=0)
