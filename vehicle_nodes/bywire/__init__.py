"""By-wire actuation: command gate, CAN to the kit (DBC, E2E), intrusion detection, candump."""

from vehicle_nodes.bywire.can_bridge import CanBridge
from vehicle_nodes.bywire.gate import Gate, GateConfig, SourceConfig
from vehicle_nodes.bywire.gate_node import CommandGate
from vehicle_nodes.bywire.kit_sim import KitSimulator
from vehicle_nodes.bywire.limits import Limits

__all__ = [
    'CanBridge',
    'CommandGate',
    'Gate',
    'GateConfig',
    'KitSimulator',
    'Limits',
    'SourceConfig',
]
