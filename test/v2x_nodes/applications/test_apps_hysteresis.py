"""Hysteresis: raise at the threshold, clear only above threshold + margin held for hold_s."""

from __future__ import annotations

from apps_cases import fcw
from apps_world import ROAD, run
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.applications.apps import ForwardCollisionWarning
from v2x_nodes.applications.hysteresis import Finding, Hysteresis

S = 1_000_000_000


def _f(margin: float, target: str = 'a') -> Finding:
    return Finding('FCW', target, margin, 3)


def test_raise_hold_and_clear() -> None:
    h = Hysteresis(clear_margin=0.5, hold_s=1.0)
    assert h.update(0, [_f(0.2)]) == ([], [])  # above threshold: nothing
    raised, _ = h.update(1 * S // 10, [_f(-0.1)])
    assert [f.target for f in raised] == ['a']
    raised, cleared = h.update(2 * S // 10, [_f(0.3)])  # inside the band: stays
    assert raised and not cleared
    raised, cleared = h.update(3 * S // 10, [_f(0.8)])  # above the band: hold starts
    assert raised and not cleared
    raised, cleared = h.update(12 * S // 10, [_f(0.8)])  # 0.9 s later: still held
    assert raised and not cleared
    raised, cleared = h.update(13 * S // 10, [_f(0.8)])
    assert not raised and [f.target for f in cleared] == ['a']


def test_target_gone_clears_after_hold() -> None:
    h = Hysteresis(clear_margin=0.5, hold_s=0.5)
    h.update(0, [_f(-1.0)])
    assert h.update(S // 10, [])[1] == []
    assert [f.target for f in h.update(6 * S // 10, [])[1]] == ['a']


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-0.3, 0.3, allow_nan=False), min_size=5, max_size=80))
def test_oscillation_inside_the_band_never_flickers(margins: list[float]) -> None:
    """A value dithering around the threshold (within the clear margin): once raised, the
    warning stays raised; it is cleared at most never."""
    h = Hysteresis(clear_margin=0.5, hold_s=1.0)
    cleared_total = 0
    raised_once = False
    for i, x in enumerate(margins):
        raised, cleared = h.update(i * S // 10, [_f(x)])
        cleared_total += len(cleared)
        raised_once |= bool(raised)
        if raised_once:
            assert raised
    assert cleared_total == 0


def test_lead_vehicle_dithering_at_the_threshold_gives_one_episode() -> None:
    """A braking lead whose TTC hovers near the threshold under 0.5 m noise: one episode."""
    for seed in (5, 6, 7):
        world = fcw(benign=False)
        world.noise_m, world.seed, world.loss = 0.5, seed, 0.2
        lead = world.actors[0].mover
        lead.brake_mps2 = -1.5  # closing slowly: TTC crosses 3 s and lingers
        lead.brake_at_s = 0.5
        result = run(world, [(ForwardCollisionWarning, {})], 14.0, map_path=ROAD)
        episodes = result.episodes('FCW')
        assert episodes and all(n == 1 for n in episodes.values()), episodes
