"""NTRIP client (v1/v2) and RTCM 3 framing: corrections from a caster to the receiver."""

from vehicle_nodes.ntrip.errors import ConfigError, NtripError, ProtocolError, SourceTableError
from vehicle_nodes.ntrip.http import NtripVersion
from vehicle_nodes.ntrip.rtcm import RtcmFrame, RtcmFramer
from vehicle_nodes.ntrip.session import NtripConfig, NtripSession
from vehicle_nodes.ntrip.sourcetable import SourceTable, parse_sourcetable

__all__ = [
    'ConfigError',
    'NtripConfig',
    'NtripError',
    'NtripSession',
    'NtripVersion',
    'ProtocolError',
    'RtcmFrame',
    'RtcmFramer',
    'SourceTable',
    'SourceTableError',
    'parse_sourcetable',
]
