"""Driver HMI: warning arbitration, the browser page (HTTP + websocket) and RViz markers."""

from v2x_nodes.hmi.arbitration import Arbiter, Candidate, Decision
from v2x_nodes.hmi.errors import HmiError, PriorityConfigError, ServerError
from v2x_nodes.hmi.hmi_server import HmiServer
from v2x_nodes.hmi.priority import APPLICATION_PRIORITY, PriorityTable, parse_overrides
from v2x_nodes.hmi.warning_arbiter import WarningArbiter

__all__ = [
    'APPLICATION_PRIORITY',
    'Arbiter',
    'Candidate',
    'Decision',
    'HmiError',
    'HmiServer',
    'PriorityConfigError',
    'PriorityTable',
    'ServerError',
    'WarningArbiter',
    'parse_overrides',
]
