"""Loopback ports chosen by the kernel, so parallel test workers (pytest-xdist) and two test
runs on one machine never ask for the same port.

Prefer binding port 0 and reading the port back (``socket.create_server(('127.0.0.1', 0))``).
These helpers are for peers that need the number before they start (snmpd, str2str,
mosquitto, a component's ``bind_port``): the port is free when returned, and the kernel hands
out bind(0) ports at random across the ephemeral range, so a race with another worker is
negligible.
"""

from __future__ import annotations

import socket

LOOPBACK = '127.0.0.1'


def free_ports(count: int, kind: str = 'tcp') -> list[int]:
    """``count`` distinct free ports (``kind`` 'tcp' or 'udp'), all held until all are picked."""
    sock_type = {'tcp': socket.SOCK_STREAM, 'udp': socket.SOCK_DGRAM}[kind]
    held = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, sock_type)
            held.append(s)
            s.bind((LOOPBACK, 0))
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def free_port(kind: str = 'tcp') -> int:
    """One free loopback port (``kind`` 'tcp' or 'udp')."""
    return free_ports(1, kind)[0]
