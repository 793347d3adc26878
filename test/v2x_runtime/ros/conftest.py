"""Fixtures of the real-rclpy tests of the ROS adapter and the container.

Every test here needs rclpy (ROS 2 Jazzy, ``../shared/ros2/install.sh``) and the message module
colcon generates from ``msg/`` (``colcon build``, then ``source install/setup.bash``). Where
either is missing the tests skip saying which; with ``V2X_REQUIRE_ROS=1`` (set by ``.ci/run``)
they fail instead, so CI cannot pass with the ROS tests silently skipped.

Each test gets its own ``rclpy.context.Context`` on a ROS_DOMAIN_ID that only this test process
holds (``ros_domains``: file-locked per process, so pytest-xdist workers and concurrent runs never
share a domain), cycled over the process's few domains.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ros_domains import POOL
from ros_test_support import ContainerLauncher, Probe, ros_missing_reason


@pytest.fixture(autouse=True)
def _require_ros() -> None:
    reason = ros_missing_reason()
    if reason is None:
        return
    if os.environ.get('V2X_REQUIRE_ROS') == '1':
        pytest.fail(f'V2X_REQUIRE_ROS=1 but {reason}', pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def domain_id() -> int:
    return POOL.next()


@pytest.fixture
def ros_context(domain_id: int) -> Iterator[Any]:
    """An initialised rclpy Context on this test's domain, shut down afterwards."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context, domain_id=domain_id)
    yield context
    context.try_shutdown()


@pytest.fixture
def probe(ros_context: Any) -> Iterator[Probe]:
    p = Probe(ros_context)
    yield p
    p.close()


@pytest.fixture
def start_container(tmp_path: Path, domain_id: int) -> Iterator[ContainerLauncher]:
    launcher = ContainerLauncher(tmp_path, domain_id)
    yield launcher
    launcher.kill_all()
