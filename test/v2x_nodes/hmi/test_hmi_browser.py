"""The HMI page in a real headless Chromium (Debian's), driven over the DevTools protocol.

A forward collision warning goes into the runtime as an application would publish it; the
arbiter passes it to the HMI; the page must show it, and hide it again once it is cleared.
The screenshot is saved in the test's output folder (its path is printed).
"""

import math
from pathlib import Path

import pytest
from hmi_support import (
    Chromium,
    chromium_available,
    odometry,
    participant,
    participants,
    spat,
    speed_advice,
    wait_for,
    warning,
)

from v2x_nodes.hmi import HmiServer, WarningArbiter
from v2x_runtime.embedded import EmbeddedRuntime

ROOT = Path(__file__).resolve().parents[3]
MAP = ROOT / 'config' / 'maps' / 'intersection.osm'
TEXT = 'Brake! Vehicle ahead'

pytestmark = pytest.mark.skipif(
    not chromium_available(), reason='Debian chromium (/usr/bin/chromium) is not installed'
)


def publish_scene(rt, fcw_level):
    now = rt.now_ns()
    rt.publish('/localization/odometry', odometry(now, -45.0, -5.25, 0.0, 13.0))
    ahead = participant(7, -28.0, -5.25, 0.0, source_id='a1b2c3d4', source=1, speed=2.0)
    rt.publish('/v2x/remote_vehicles', participants(now, [ahead]))
    walkers = [
        participant(3, -7.5, 19.0, -math.pi / 2, cls=5, speed=1.3),
        participant(4, 5.25, 35.0, -math.pi / 2, cls=1, speed=8.0),
    ]
    rt.publish('/v2x/roadside_participants', participants(now, walkers))
    rt.publish(
        '/v2x/spat',
        spat(
            now, [(7, 3, 14.0), (8, 6, 9.0), (9, 6, 9.0), (1, 3, 25.0), (2, 3, 25.0), (3, 3, 25.0)]
        ),
    )
    rt.publish('/v2x/speed_advice', speed_advice(now, 11.5, 8, 'pass on green'))
    rt.publish(
        '/v2x/warnings',
        warning(
            'FCW', fcw_level, now_ns=now, target='a1b2c3d4', ttc_s=1.6, distance_m=17.0, text=TEXT
        ),
    )


def test_the_page_shows_a_raised_warning_and_hides_it_when_cleared(tmp_path):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'port': 0, 'map_file': str(MAP)})
    rt.add_component(WarningArbiter, name='arbiter', parameters={'min_display_s': 2.0})
    profile = tmp_path / 'chromium-profile'
    profile.mkdir()
    browser = None
    try:
        rt.start()
        publish_scene(rt, 4)
        rt.run(duration_s=0.3)
        browser = Chromium(profile)
        browser.navigate(hmi.url)
        shown = wait_for(
            lambda: browser.evaluate(
                "document.getElementById('warning').hidden ? '' : "
                "document.getElementById('warning').innerText"
            ),
            30.0,
            'the warning banner',
        )
        assert TEXT in shown and 'FCW' in shown and 'CRITICAL' in shown
        dom = browser.evaluate('document.documentElement.outerHTML')
        assert TEXT in dom and 'data-warning="FCW"' in dom
        assert 'class="warning level-4"' in dom
        assert 'a1b2c3d4:7' in dom and 'phase 8 protected green' in dom
        countdown = browser.evaluate(
            'document.querySelector(\'[data-phase="8"] .left\').textContent'
        )
        assert countdown in ('8 s', '9 s'), countdown  # the green's countdown (9.0 s when sent)
        assert browser.evaluate("document.getElementById('conn').textContent") == 'live'
        # the map was drawn: the canvas is not one flat colour
        colours = browser.evaluate(
            "(() => { const c = document.getElementById('map');"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            ' const s = new Set(); for (let i = 0; i < d.length; i += 4 * 97)'
            ' s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return s.size; })()'
        )
        assert colours > 5
        shot = browser.screenshot(tmp_path / 'hmi_fcw.png')
        print(f'HMI screenshot: {shot}')
        assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 20_000

        # cleared: after the hold time the banner goes, live over the same websocket
        rt.publish('/v2x/warnings', warning('FCW', 0, now_ns=rt.now_ns(), target='a1b2c3d4'))
        rt.run(duration_s=2.5)
        wait_for(
            lambda: browser.evaluate("document.getElementById('warning').hidden"),
            30.0,
            'the warning banner to hide',
        )
        assert browser.evaluate('document.body.dataset.warning') == ''
        browser.screenshot(tmp_path / 'hmi_cleared.png')
    finally:
        if browser is not None:
            browser.close()
        rt.close()
