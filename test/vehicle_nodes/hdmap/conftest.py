from pathlib import Path

import pytest

from vehicle_nodes.hdmap import HdMap, load_map

REPO = Path(__file__).resolve().parents[3]
MAPS = REPO / 'config' / 'maps'
# ../shared/realdata beside the repository (a worktree under wt/ looks one level higher).
REALDATA = next(
    (
        p / 'shared' / 'realdata'
        for p in (REPO.parent, REPO.parent.parent)
        if (p / 'shared' / 'realdata').is_dir()
    ),
    REPO.parent / 'shared' / 'realdata',
)
KARLSRUHE = REALDATA / 'lanelet2' / 'mapping_example.osm'
KARLSRUHE_ORIGIN = (49.0, 8.4)  # the origin Lanelet2's own examples use (SOURCES.md)


@pytest.fixture(scope='session')
def intersection() -> HdMap:
    return load_map(MAPS / 'intersection.osm')


@pytest.fixture(scope='session')
def road() -> HdMap:
    return load_map(MAPS / 'road_segment.osm')


@pytest.fixture(scope='session')
def karlsruhe_path() -> Path:
    if not KARLSRUHE.exists():
        pytest.skip(f'realdata not present: {KARLSRUHE}')
    return KARLSRUHE


@pytest.fixture(scope='session')
def karlsruhe(karlsruhe_path: Path) -> HdMap:
    from vehicle_nodes.hdmap import EnuFrame

    return load_map(karlsruhe_path, EnuFrame(*KARLSRUHE_ORIGIN))


@pytest.fixture(scope='session')
def maps_dir() -> Path:
    return MAPS


@pytest.fixture(scope='session')
def karlsruhe_origin() -> tuple[float, float]:
    return KARLSRUHE_ORIGIN
