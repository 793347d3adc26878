"""The one adapter from the HD map (Lanelet2, ``vehicle_nodes.hdmap``) to the lane network.

Until the HD map area is merged into this branch, loading a Lanelet2 map fails with a clear
MapError; scenarios use ``map: {kind: four_arm}`` meanwhile. The adapter fills
``LaneNetwork``: each lanelet becomes a ``Lane`` (centre line, successors, speed limit), a
traffic-light regulatory element's stop line becomes the ``signal_group`` of the movement
lanelets behind it, crosswalk lanelets become ``Crosswalk``s.
"""

from __future__ import annotations

from pathlib import Path

from sim_nodes.errors import MapError
from sim_nodes.world.lanes import LaneNetwork


def network_from_lanelet2(path: Path) -> LaneNetwork:
    try:
        import vehicle_nodes.hdmap  # noqa: F401
    except ImportError:
        raise MapError(
            f'{path}: the Lanelet2 loader (vehicle_nodes.hdmap) is not in this tree yet; '
            'use map kind four_arm'
        ) from None
    raise MapError(f'{path}: the Lanelet2 → lane network adapter is not written yet')
