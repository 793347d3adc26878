"""Stable fused ids through member continuity, re-identification and expiry."""

import numpy as np

from perception_nodes.fusion.identity import IdentityKeeper

S = 1_000_000_000
A, B, C = (0, '', 1), (1, 'rsu1', 101), (2, '00000001', 1)


def _assign(keeper, members, xy, now):
    n = len(members)
    states = np.zeros((n, 4))
    states[:, :2] = xy
    covs = np.tile(np.eye(4) * 0.1, (n, 1, 1))
    return keeper.assign(members, states, covs, np.ones(n, dtype=np.int64), now)


def test_id_follows_any_continuing_member():
    k = IdentityKeeper()
    first = _assign(k, [[A, B], [C]], [[0, 0], [50, 0]], 0)
    assert first == [1, 2]
    # A drops out, B continues and now C joins it: the id follows B (overlap 1 vs 1: older id)
    again = _assign(k, [[B, C]], [[0.1, 0]], S // 10)
    assert again == [1]


def test_split_keeps_the_id_on_the_larger_overlap():
    k = IdentityKeeper()
    _assign(k, [[A, B, C]], [[0, 0]], 0)
    ids = _assign(k, [[C], [A, B]], [[3, 0], [0, 0]], S // 10)
    assert ids[1] == 1 and ids[0] != 1


def test_reidentified_by_position_when_every_source_restarted():
    k = IdentityKeeper(hold_s=2.0)
    _assign(k, [[A]], [[10, 0]], 0)
    new_a = (0, '', 77)
    assert _assign(k, [[new_a]], [[10.2, 0]], S // 2) == [1]
    assert _assign(k, [[(0, '', 78)]], [[40, 0]], S) == [2]  # far away: new id


def test_lost_ids_forgotten_after_hold_and_never_reused_early():
    k = IdentityKeeper(hold_s=1.0)
    _assign(k, [[A]], [[0, 0]], 0)
    _assign(k, [], np.zeros((0, 2)), 2 * S)
    assert _assign(k, [[(0, '', 5)]], [[0, 0]], 2 * S + 1) == [2]
