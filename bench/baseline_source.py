"""Earlier versions of our own modules as benchmark baselines, loaded from git in the same run.

A speed-up is shown against the code it replaced, measured in the same process on the same
inputs (a figure from another day measures another machine load). ``baseline_module`` reads
a file as it was at a commit (``git show COMMIT:PATH``) and executes it as a module of its
own; ``redirect`` maps imports of our modules onto other baseline modules, so that e.g. the
old localiser runs on the old EKF. None when git or the commit is not at hand (a source
tarball): the benchmarks then print their figures without the baseline.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# main before the per-car speed-ups of issue #5 (map cache, matcher window, EKF closed forms,
# path-history buffer, float geodetic conversions)
CARPERF_BASELINE = '3491ccb'


def baseline_module(
    path: str, commit: str = CARPERF_BASELINE, redirect: dict[str, str] | None = None
) -> types.ModuleType | None:
    """``path`` (repository-relative) as it was at ``commit``, as a fresh module."""
    try:
        src = subprocess.run(
            ['git', '-C', str(ROOT), 'show', f'{commit}:{path}'],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for old, new in (redirect or {}).items():
        src = src.replace(f'from {old} import', f'from {new} import')
    name = f'baseline_{commit}_{path.removesuffix(".py").replace("/", "_")}'
    module = types.ModuleType(name)
    module.__file__ = f'{commit}:{path}'
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(src, module.__file__, 'exec'), module.__dict__)
    return module
