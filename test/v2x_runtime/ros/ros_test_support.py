"""Helpers of the real-rclpy tests: a probe node, container processes, topology files.

Imported only once rclpy is known to be importable (the conftest checks first).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
START_TIMEOUT_S = 60.0  # container start-up on a loaded 2-core machine (imports, validation)
STOP_TIMEOUT_S = 30.0


def ros_missing_reason() -> str | None:
    """Why the ROS tests cannot run here, or None when they can."""
    try:
        import rclpy  # noqa: F401
    except ImportError as err:
        return (
            f'rclpy is not importable ({err}); install ROS 2 Jazzy with '
            '../shared/ros2/install.sh .venv and source .venv/ros_setup.bash'
        )
    try:
        import v2x_stack.msg  # noqa: F401
    except ImportError as err:
        return (
            f'the generated messages v2x_stack.msg are not importable ({err}); '
            'run colcon build and source install/setup.bash'
        )
    return None


class Probe:
    """A plain rclpy node with its own executor, for talking to the system under test."""

    def __init__(self, context: Any, name: str = 'probe') -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        self.node = Node(name, context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)

    def spin_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Spin until ``condition()`` holds; fail naming ``what`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f'timed out after {timeout_s} s waiting for {what}')
            self.executor.spin_once(timeout_sec=0.05)

    def spin_future(self, future: Any, timeout_s: float, what: str) -> Any:
        self.executor.spin_until_future_complete(future, timeout_sec=timeout_s)
        assert future.done(), f'timed out after {timeout_s} s waiting for {what}'
        return future.result()

    def collect(self, msg_class: type, topic: str, qos: int = 10) -> list[Any]:
        """Subscribe ``topic``; the returned list fills while the probe spins."""
        received: list[Any] = []
        self.node.create_subscription(msg_class, topic, received.append, qos)
        return received

    def wait_for_subscriber(self, publisher: Any, timeout_s: float = START_TIMEOUT_S) -> None:
        self.spin_until(
            lambda: publisher.get_subscription_count() > 0,
            timeout_s,
            f'a subscriber of {publisher.topic_name}',
        )

    def close(self) -> None:
        self.executor.remove_node(self.node)
        self.node.destroy_node()
        self.executor.shutdown()


@dataclass
class ContainerProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding='utf-8', errors='replace')

    def interrupt(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """One SIGINT, then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f'container ignored SIGINT for {timeout_s} s:\n{self.log()}'
            ) from None

    def wait(self, timeout_s: float = START_TIMEOUT_S) -> int:
        return self.proc.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def write_topology(path: Path, components: dict[str, dict[str, Any]], namespace: str) -> Path:
    data = {'namespace': namespace, 'processes': {'main': {'components': components}}}
    path.write_text(yaml.safe_dump(data), encoding='utf-8')
    return path


def installed_container() -> Path:
    """``lib/v2x_stack/container`` of the colcon install found through the ament index."""
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        prefix = Path(get_package_prefix('v2x_stack'))
    except PackageNotFoundError:
        pytest.skip('v2x_stack is not in AMENT_PREFIX_PATH (source install/setup.bash)')
    path = prefix / 'lib' / 'v2x_stack' / 'container'
    assert path.is_file(), f'the colcon install lacks {path}'
    return path


class ContainerLauncher:
    """Starts containers hosting components of ``ros_test_components``; kills leftovers."""

    def __init__(self, workdir: Path, domain_id: int) -> None:
        self.workdir = workdir
        self.domain_id = domain_id
        self.started: list[ContainerProcess] = []

    def __call__(
        self,
        components: dict[str, dict[str, Any]],
        *args: str,
        namespace: str = 'test',
        ros_args: tuple[str, ...] = (),
        installed: bool = False,
    ) -> ContainerProcess:
        """``installed=True`` runs the colcon-installed ``lib/v2x_stack/container`` (with the
        installed ``v2x_runtime``); otherwise ``python -m v2x_runtime.ros.container`` from this
        source tree.
        """
        config = write_topology(
            self.workdir / f'topology{len(self.started)}.yaml', components, namespace
        )
        command = ['--config', str(config), '--process', 'main', *args]
        if ros_args:
            command += ['--ros-args', *ros_args]
        return self.spawn(command, installed=installed)

    def spawn(self, arguments: list[str], *, installed: bool = False) -> ContainerProcess:
        """Run the container with exactly ``arguments`` (as a launch file would)."""
        n = len(self.started)
        pythonpath = [str(HERE)]
        if installed:
            command = [sys.executable, str(installed_container())]
        else:
            pythonpath.insert(0, str(ROOT))
            command = [sys.executable, '-m', 'v2x_runtime.ros.container']
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join([*pythonpath, env.get('PYTHONPATH', '')])
        env['ROS_DOMAIN_ID'] = str(self.domain_id)
        env['PYTHONUNBUFFERED'] = '1'
        env['RCUTILS_LOGGING_BUFFERED_STREAM'] = '0'
        command += arguments
        log_path = self.workdir / f'container{n}.log'
        with log_path.open('wb') as log_file:
            proc = subprocess.Popen(
                command,
                env=env,
                cwd=self.workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        container = ContainerProcess(proc, log_path)
        self.started.append(container)
        return container

    def kill_all(self) -> None:
        for container in self.started:
            container.kill()


def rosidl_from_plain(msg_class: type, data: dict[str, Any]) -> Any:
    """Build a rosidl message natively (its own setters, no CDR) from ``plain()`` values."""
    import importlib

    message = msg_class()
    types = msg_class.get_fields_and_field_types()
    for name, value in data.items():
        kind = types[name]
        if isinstance(value, dict):
            setattr(message, name, rosidl_from_plain(type(getattr(message, name)), value))
        elif kind.startswith('sequence<') and '/' in kind:
            package, type_name = kind[len('sequence<') : -1].split('/')
            element = getattr(importlib.import_module(f'{package}.msg'), type_name)
            setattr(message, name, [rosidl_from_plain(element, v) for v in value])
        else:
            setattr(message, name, value)
    return message
