from pathlib import Path

import pytest

from vehicle_nodes.hdmap import HdMap, load_map

REPO = Path(__file__).resolve().parents[3]
MAPS = REPO / 'config' / 'maps'
KARLSRUHE_ORIGIN = (49.0, 8.4)  # the origin Lanelet2's own examples use (SOURCES.md)


@pytest.fixture(scope='session')
def intersection() -> HdMap:
    return load_map(MAPS / 'intersection.osm')


@pytest.fixture(scope='session')
def road() -> HdMap:
    return load_map(MAPS / 'road_segment.osm')


@pytest.fixture(scope='session')
def karlsruhe_path(realdata: Path) -> Path:
    path = realdata / 'lanelet2' / 'mapping_example.osm'
    if not path.exists():
        pytest.skip(f'realdata has no {path}')
    return path


@pytest.fixture(scope='session')
def karlsruhe(karlsruhe_path: Path) -> HdMap:
    from geo import LocalFrame

    return load_map(karlsruhe_path, LocalFrame(*KARLSRUHE_ORIGIN))


@pytest.fixture(scope='session')
def maps_dir() -> Path:
    return MAPS


@pytest.fixture(scope='session')
def karlsruhe_origin() -> tuple[float, float]:
    return KARLSRUHE_ORIGIN
