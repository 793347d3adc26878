import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vehicle_nodes.hdmap.errors import ExportError
from vehicle_nodes.hdmap.export import export_intersection, read_export, write_export
from vehicle_nodes.hdmap.generate import INTERSECTION_ORIGIN, signal_group


def test_committed_export_reads_back(maps_dir):
    exp = read_export(maps_dir / 'intersection.json')
    assert exp.intersection_id == 1
    assert (exp.ref_lat_deg, exp.ref_lon_deg) == pytest.approx(INTERSECTION_ORIGIN, abs=1e-7)
    assert exp.ref_xy_m == pytest.approx((0.0, 0.0), abs=1e-6)
    ingress = [ln for ln in exp.lanes if ln.kind == 'ingress']
    egress = [ln for ln in exp.lanes if ln.kind == 'egress']
    assert (len(ingress), len(egress)) == (12, 8)
    assert len(exp.movements) == 12
    assert len(exp.nodes) == 5
    assert len({ln.lane_id for ln in exp.lanes}) == 20


def test_movements_and_geometry(intersection):
    exp = export_intersection(intersection, 1)
    lanes = {ln.lane_id: ln for ln in exp.lanes}
    for mv in exp.movements:
        src, dst = lanes[mv.ingress_lane_id], lanes[mv.egress_lane_id]
        assert src.kind == 'ingress' and dst.kind == 'egress'
        assert src.maneuvers == (mv.maneuver,)
        assert mv.signal_group == signal_group(src.arm, mv.maneuver)
        # Points start at the stop line / junction edge (16 m) and run 160 m out.
        assert max(abs(c) for c in src.points_m[0]) == pytest.approx(16.0)
        assert max(abs(c) for c in src.points_m[-1]) == pytest.approx(160.0)
        assert max(abs(c) for c in dst.points_m[0]) == pytest.approx(16.0)
        assert src.arm_node_id == 100 + src.arm + 1
        expected_arm = {
            'left': (src.arm + 3) % 4,
            'straight': (src.arm + 2) % 4,
            'right': (src.arm + 1) % 4,
        }[mv.maneuver]
        assert dst.arm == expected_arm
    assert all(ln.width_m == pytest.approx(3.5) for ln in exp.lanes)
    assert all(ln.speed_limit_mps == pytest.approx(50 / 3.6, abs=1e-3) for ln in exp.lanes)


def test_roundtrip(tmp_path, intersection):
    exp = export_intersection(intersection, 1, name='x')
    write_export(exp, tmp_path / 'x.json')
    assert read_export(tmp_path / 'x.json') == exp


def test_unknown_intersection(intersection):
    with pytest.raises(ExportError, match='intersection_id 9'):
        export_intersection(intersection, 9)


@pytest.mark.parametrize('text', ['{', '{"format_version": 2}', '{"format_version": 1}', '[]'])
def test_bad_export_files(tmp_path, text):
    path = tmp_path / 'bad.json'
    path.write_text(text)
    with pytest.raises(ExportError, match=str(path)):
        read_export(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_fuzz_mutated_exports_read_or_raise_export_error(tmp_path, maps_dir, data):
    raw = bytearray((maps_dir / 'intersection.json').read_bytes()[:3000])
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    path = tmp_path / 'fuzz.json'
    path.write_bytes(bytes(raw))
    with pytest.raises(ExportError):
        read_export(path)  # truncated at 3000 bytes: never a whole export


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(['format_version', 'lanes', 'movements', 'nodes', 'ref_xy_m']), st.data())
def test_fuzz_wrong_field_values(tmp_path, maps_dir, field, data):
    import json

    raw = json.loads((maps_dir / 'intersection.json').read_text())
    raw[field] = data.draw(
        st.one_of(
            st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2)
        )
    )
    path = tmp_path / 'f.json'
    path.write_text(json.dumps(raw))
    try:
        exp = read_export(path)
    except ExportError:
        return
    assert exp.intersection_id == 1
