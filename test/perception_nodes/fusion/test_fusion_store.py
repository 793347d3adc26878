"""Report admission: duplicates, reordering, stale and future stamps, expiry, list replacement."""

import numpy as np

from perception_nodes.fusion.reports import ObjectReport, SourceKind
from perception_nodes.fusion.store import Admission, ReportStore, StoreLimits

S = 1_000_000_000


def _rep(stamp_ns, oid=1, kind=SourceKind.ROADSIDE, sid='rsu1'):
    return ObjectReport(
        kind, sid, oid, stamp_ns, np.zeros(4), np.eye(4), 1, (4, 2, 1.5), 0.0, -1.0, 0.9, 1
    )


def test_admission_rules():
    st = ReportStore(StoreLimits(max_age_s=0.5, future_tolerance_s=0.05))
    now = 10 * S
    assert st.admit(_rep(now - S // 10), now) is Admission.ACCEPTED
    assert st.admit(_rep(now - S // 10), now) is Admission.REPEATED  # the same report again
    moved = _rep(now - S // 10)
    moved.state[0] = 1.0
    assert st.admit(moved, now) is Admission.DUPLICATE  # same stamp, other content
    assert st.admit(_rep(now - S // 5), now) is Admission.OUT_OF_ORDER
    assert st.admit(_rep(now - S), now) is Admission.STALE
    assert st.admit(_rep(now + S // 10), now) is Admission.FUTURE
    assert st.admit(_rep(now + S // 100), now) is Admission.ACCEPTED  # within tolerance
    assert len(st) == 1 and st.reports()[0].stamp_ns == now + S // 100


def test_same_object_id_from_two_sources_are_two_objects():
    st = ReportStore(StoreLimits())
    assert st.admit(_rep(S, sid='rsu1'), S) is Admission.ACCEPTED
    assert st.admit(_rep(S, sid='rsu2'), S) is Admission.ACCEPTED
    assert st.admit(_rep(S, kind=SourceKind.V2V, sid='0a'), S) is Admission.ACCEPTED
    assert len(st) == 3


def test_silent_source_expires_without_ghosts():
    st = ReportStore(StoreLimits(max_age_s=0.5))
    st.admit(_rep(S, oid=1), S)
    st.admit(_rep(S, oid=2, sid='rsu2'), S)
    st.admit(_rep(int(1.4 * S), oid=2, sid='rsu2'), int(1.4 * S))
    assert st.expire(int(1.6 * S)) == 1  # rsu1 went silent at 1 s
    assert [r.source_id for r in st.reports()] == ['rsu2']
    assert st.expire(int(2.0 * S)) == 1
    assert len(st) == 0


def test_complete_list_replaces_the_group():
    st = ReportStore(StoreLimits())
    for oid in (1, 2, 3):
        st.admit(_rep(S, oid=oid, kind=SourceKind.ONBOARD, sid=''), S)
    st.admit(_rep(S, oid=9), S)  # another group stays
    keep = [(int(SourceKind.ONBOARD), '', 2)]
    assert st.replace_group((int(SourceKind.ONBOARD), ''), keep) == 2
    assert sorted(r.object_id for r in st.reports()) == [2, 9]
