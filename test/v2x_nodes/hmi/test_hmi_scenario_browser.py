"""Issue #9: the HMI page in headless Chromium shows a warning *raised in a scenario*.

test_hmi_browser.py publishes the warning by hand; here the forward-collision scenario of the
application tests runs (scripted world: odometry through the real map matcher, BSMs of the
braking car ahead), the real ForwardCollisionWarning raises, the arbiter passes it on, and the
page must show that warning with its target. The screenshot goes to the test's folder.
"""

from pathlib import Path

import pytest
from apps_cases import fcw
from apps_world import NS, ROAD, START_NS, schedule
from hmi_support import Chromium, chromium_available, wait_for

from v2x_nodes.applications.apps import ForwardCollisionWarning
from v2x_nodes.hmi import HmiServer, WarningArbiter
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.node import MapMatcher

pytestmark = pytest.mark.skipif(
    not chromium_available(), reason='Debian chromium (/usr/bin/chromium) is not installed'
)
BANNER = (
    "document.getElementById('warning').hidden ? '' : document.getElementById('warning').innerText"
)


def test_the_page_shows_the_fcw_the_scenario_raises(tmp_path: Path) -> None:
    rt = EmbeddedRuntime(start_ns=START_NS, diagnostics_period_s=0)
    rt.add_component(MapMatcher, name='map_matcher', namespace=NS,
                     parameters={'map_file': str(ROAD)})  # fmt: skip
    rt.add_component(ForwardCollisionWarning, name='fcw', namespace=NS,
                     parameters={'map_file': str(ROAD)})  # fmt: skip
    rt.add_component(WarningArbiter, name='arbiter', namespace=NS)
    hmi = rt.add_component(HmiServer, name='hmi', namespace=NS,
                           parameters={'port': 0, 'map_file': str(ROAD)})  # fmt: skip
    raised: list = []
    rt.subscribe(f'{NS}/v2x/warnings', 'v2x_stack/msg/Warning',
                 lambda w: raised.append(w) if w.level > 0 else None)  # fmt: skip
    profile = tmp_path / 'chromium-profile'
    profile.mkdir()
    browser = None
    try:
        schedule(rt, fcw(benign=False), 6.0)
        rt.start()
        for _ in range(60):  # until the application raises (the lead brakes hard at 2 s)
            rt.run(duration_s=0.1)
            if raised:
                break
        assert raised, 'the FCW scenario raised no warning'
        rt.run(duration_s=0.2)  # the arbiter's next cycle
        first = raised[0]
        at_s = (m.to_ns(first.header.stamp) - START_NS) / 1e9
        browser = Chromium(profile)
        browser.navigate(hmi.url)
        shown = wait_for(lambda: browser.evaluate(BANNER), 30.0, 'the warning banner')
        assert 'FCW' in shown and first.text in shown, shown
        dom = browser.evaluate('document.documentElement.outerHTML')
        assert 'data-warning="FCW"' in dom
        assert first.target_id and first.target_id in dom  # the braking car, a target on the map
        shot = browser.screenshot(tmp_path / 'hmi_fcw_scenario.png')
        print(f'FCW raised at {at_s:.1f} s in the scenario; HMI screenshot: {shot}')
        assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 20_000
    finally:
        if browser is not None:
            browser.close()
        rt.close()
