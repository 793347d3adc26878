"""Test helpers of the HMI area: message builders and a small Chrome DevTools Protocol client."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from v2x_runtime import messages as m

CHROMIUM = '/usr/bin/chromium'


def warning(
    app: str,
    level: int,
    *,
    now_ns: int = 0,
    target: str = '',
    ttc_s: float = math.inf,
    distance_m: float = math.nan,
    text: str = '',
) -> Any:
    return m.new(
        'v2x_stack/msg/Warning',
        header=m.header(now_ns, 'map'),
        application=app,
        level=level,
        target_id=target,
        time_to_collision_s=ttc_s,
        distance_m=distance_m,
        text=text or f'{app} test warning',
    )


def odometry(now_ns: int, x: float, y: float, yaw: float, speed: float, frame: str = 'map') -> Any:
    return m.new(
        'nav_msgs/msg/Odometry',
        header=m.header(now_ns, frame),
        pose=m.new(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=m.new(
                'geometry_msgs/msg/Pose',
                position=m.new('geometry_msgs/msg/Point', x=x, y=y),
                orientation=m.new(
                    'geometry_msgs/msg/Quaternion', z=math.sin(yaw / 2), w=math.cos(yaw / 2)
                ),
            ),
        ),
        twist=m.new(
            'geometry_msgs/msg/TwistWithCovariance',
            twist=m.new(
                'geometry_msgs/msg/Twist', linear=m.new('geometry_msgs/msg/Vector3', x=speed)
            ),
        ),
    )


def participant(
    pid: int,
    x: float,
    y: float,
    yaw: float,
    *,
    cls: int = 1,
    source_id: str = 'rsu1',
    source: int = 6,
    speed: float = 5.0,
) -> Any:
    return m.new(
        'v2x_stack/msg/Participant',
        id=pid,
        participant_class=cls,
        source=source,
        source_id=source_id,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y),
        heading_rad=yaw,
        velocity=m.new(
            'geometry_msgs/msg/Vector3', x=speed * math.cos(yaw), y=speed * math.sin(yaw)
        ),
    )


def participants(now_ns: int, items: list[Any], frame: str = 'map') -> Any:
    return m.new(
        'v2x_stack/msg/ParticipantArray', header=m.header(now_ns, frame), participants=items
    )


def spat(now_ns: int, phases: list[tuple[int, int, float]], intersection_id: int = 1) -> Any:
    """``phases``: (phase id, light, likely end in s from now)."""
    return m.new(
        'v2x_stack/msg/IntersectionState',
        header=m.header(now_ns, 'map'),
        intersection_id=intersection_id,
        phases=[
            m.new(
                'v2x_stack/msg/SignalPhase',
                phase_id=pid,
                light=light,
                likely_end_s=end,
                min_end_s=end,
                max_end_s=end + 5.0,
            )
            for pid, light, end in phases
        ],
    )


def speed_advice(now_ns: int, recommended_mps: float, phase_id: int, text: str) -> Any:
    return m.new(
        'v2x_stack/msg/SpeedAdvice',
        header=m.header(now_ns, 'map'),
        application='GLOSA',
        min_speed_mps=8.0,
        max_speed_mps=13.9,
        recommended_speed_mps=recommended_mps,
        distance_m=60.0,
        phase_id=phase_id,
        text=text,
    )


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout_s} s waiting for {what}')
        time.sleep(0.05)


class Chromium:
    """Headless Debian Chromium driven over the DevTools protocol (one page)."""

    def __init__(self, profile_dir: Path, width: int = 1280, height: int = 800) -> None:
        self.profile_dir = profile_dir
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                '--headless',
                '--no-sandbox',
                '--disable-gpu',
                '--disable-quic',
                '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update',
                '--disable-sync',
                f'--user-data-dir={profile_dir}',
                f'--window-size={width},{height}',
                '--remote-debugging-port=0',
                '--remote-allow-origins=*',
                'about:blank',
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._id = 0
        self.ws: ClientConnection | None = None
        self.session = ''
        try:
            port_file = profile_dir / 'DevToolsActivePort'
            text = wait_for(
                lambda: (
                    port_file.is_file()
                    and port_file.read_text().count('\n') >= 1
                    and port_file.read_text()
                ),
                30.0,
                'Chromium to write DevToolsActivePort',
            )
            port, path = text.split('\n')[:2]
            url = f'ws://127.0.0.1:{port.strip()}{path.strip()}'
            self.ws = connect(url, max_size=2**26).__enter__()  # closed in close()
            target = self.call('Target.createTarget', url='about:blank')['targetId']
            self.session = self.call('Target.attachToTarget', targetId=target, flatten=True)[
                'sessionId'
            ]
            self.call(
                'Emulation.setDeviceMetricsOverride',
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            self.close()
            raise

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        self._id += 1
        request: dict[str, Any] = {'id': self._id, 'method': method, 'params': params}
        if self.session and not method.startswith('Target.'):
            request['sessionId'] = self.session
        self.ws.send(json.dumps(request))
        while True:
            reply = json.loads(self.ws.recv(timeout=30.0))
            if reply.get('id') == self._id:
                if 'error' in reply:
                    raise RuntimeError(f'{method}: {reply["error"]}')
                return reply.get('result', {})

    def navigate(self, url: str) -> None:
        self.call('Page.enable')
        self.call('Page.navigate', url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call('Runtime.evaluate', expression=expression, returnByValue=True)
        return result.get('result', {}).get('value')

    def screenshot(self, path: Path) -> Path:
        data = self.call('Page.captureScreenshot', format='png')['data']
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # the browser may already be gone
                self.call('Browser.close')
            self.ws.close()
            self.ws = None
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5.0)


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None
