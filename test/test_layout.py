"""test/ has no __init__.py, so pytest imports test modules by basename: they must be unique."""

from collections import Counter
from pathlib import Path

TEST_ROOT = Path(__file__).resolve().parent


def test_test_module_basenames_are_unique():
    names = Counter(p.name for p in TEST_ROOT.rglob('test_*.py'))
    assert [n for n, c in names.items() if c > 1] == []


def test_no_init_files_in_test():
    assert list(TEST_ROOT.rglob('__init__.py')) == []
