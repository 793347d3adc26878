"""GNSS receiver driver: NMEA 0183 over serial/TCP/UDP → fixes, covariance, heading, velocity."""

from vehicle_nodes.gnss.errors import ConfigError, GnssError, TransportError
from vehicle_nodes.gnss.nmea import Reason, Rejection, parse_sentence
from vehicle_nodes.gnss.records import CovarianceKind, FixType, GnssFix
from vehicle_nodes.gnss.stream import NmeaStream
from vehicle_nodes.gnss.transports import make_transport

__all__ = [
    'ConfigError',
    'CovarianceKind',
    'FixType',
    'GnssError',
    'GnssFix',
    'NmeaStream',
    'Reason',
    'Rejection',
    'TransportError',
    'make_transport',
    'parse_sentence',
]
