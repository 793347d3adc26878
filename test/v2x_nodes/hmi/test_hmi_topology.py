"""The HMI's entries for config/car.yaml load, validate and run in the embedded runtime."""

import pytest
from hmi_support import warning

from v2x_runtime import TopologyError
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import build, load_topology, validate

SNIPPET = """
description: car HMI part
namespace: car
processes:
  hmi:
    components:
      warning_arbiter:
        plugin: v2x_nodes.hmi.warning_arbiter:WarningArbiter
        parameters: {min_display_s: 2.0, expire_after_s: 3.0, priority_overrides: ['']}
      hmi_server:
        plugin: v2x_nodes.hmi.hmi_server:HmiServer
        parameters: {host: 127.0.0.1, port: 0, map_file: config/maps/intersection.osm}
"""


def test_the_car_yaml_entries_validate_and_run(tmp_path):
    path = tmp_path / 'car_hmi.yaml'
    path.write_text(SNIPPET)
    topology = load_topology(path)
    validate(topology)
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    build(topology, rt)
    shown = []
    rt.subscribe('/car/hmi/active_warning', 'v2x_stack/msg/Warning', shown.append)
    try:
        rt.start()
        rt.publish('/car/v2x/warnings', warning('EBW', 3, text='hard braking ahead'))
        rt.run(duration_s=0.3)
    finally:
        rt.close()
    assert shown[-1].application == 'EBW' and shown[-1].text == 'hard braking ahead'


def test_a_bad_override_in_the_topology_names_file_component_and_entry(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text(SNIPPET.replace("priority_overrides: ['']", "priority_overrides: ['FCW']"))
    with pytest.raises(TopologyError, match=r"bad\.yaml: .*warning_arbiter\.parameters: .*'FCW'"):
        validate(load_topology(path))
