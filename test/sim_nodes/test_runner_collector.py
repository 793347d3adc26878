"""The runner's collector settings around a run: paused in the loop, restored after it."""

import gc
import weakref

from sim_nodes.runner import RUN_GC_THRESHOLDS, _collector_settled


class _Node:
    def __init__(self) -> None:
        self.other: object = None


def test_the_run_loop_has_no_automatic_pass_and_everything_is_restored_after_it():
    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    with _collector_settled(paused=True):
        assert not gc.isenabled()
        assert gc.get_threshold() == RUN_GC_THRESHOLDS
        a, b = _Node(), _Node()
        a.other, b.other = b, a  # a cycle: only a pass frees it
        gone = weakref.ref(a)
        del a, b
        kept = [[i] for i in range(50_000)]  # far past a young pass's threshold
        assert gone() is not None  # no pass ran
    assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before
    assert len(kept) == 50_000
    gc.collect()
    assert gone() is None  # the cycle made in the loop is not left frozen


def test_the_scoring_block_keeps_the_collector_on_with_raised_thresholds():
    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    with _collector_settled():
        assert gc.isenabled() == before[0]
        assert gc.get_threshold() == RUN_GC_THRESHOLDS
    assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before
