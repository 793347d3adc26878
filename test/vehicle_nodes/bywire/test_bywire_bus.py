"""The CAN port: virtual bus, socketcan/vcan where the kernel allows, errors and bus-off."""

from __future__ import annotations

import can
import pytest

from vehicle_nodes.bywire.bus import CAN_ERR_BUSOFF, CanPort
from vehicle_nodes.bywire.errors import BusError


def test_virtual_send_and_receive(channel: str) -> None:
    a, b = CanPort('virtual', channel), CanPort('virtual', channel)
    a.open()
    b.open()
    try:
        assert a.send(0x110, b'\x01\x02')
        assert b.send(0x1ABCDEF, b'\x03', extended=True)
        got_b = b.receive()
        got_a = a.receive()
        assert [(m.arbitration_id, bytes(m.data)) for m in got_b] == [(0x110, b'\x01\x02')]
        assert got_a[0].is_extended_id and got_a[0].arbitration_id == 0x1ABCDEF
        assert a.counts['sent'] == 1 and b.receive() == []
    finally:
        a.close()
        b.close()


def test_vcan_where_the_kernel_allows() -> None:
    try:
        bus = can.Bus(interface='socketcan', channel='vcan0')
    except (OSError, can.CanError) as err:
        pytest.skip(f'socketcan vcan0 not available here: {err}')
    bus.shutdown()
    port = CanPort('socketcan', 'vcan0')
    port.open()
    try:
        assert port.send(0x123, b'\xde\xad')
    finally:
        port.close()


def test_open_errors_name_interface_and_channel() -> None:
    with pytest.raises(BusError, match='expected one of'):
        CanPort('pcan-usb', 'x').open()
    try:
        can.Bus(interface='socketcan', channel='vcan0').shutdown()
    except (OSError, can.CanError):
        with pytest.raises(BusError, match="socketcan channel 'vcan0'"):
            CanPort('socketcan', 'vcan0').open()


def test_send_failures_are_counted_then_bus_off_then_recovery(channel: str) -> None:
    port = CanPort('virtual', channel, bus_off_after=3, reopen_period_s=0.5)
    port.open()
    assert port.bus is not None
    port.bus.shutdown()  # the interface goes away under us
    for _ in range(3):
        assert port.send(0x110, bytes(8)) is False
    assert port.counts['send_errors'] == 3 and port.bus_off
    assert port.counts['bus_off'] == 1 and 'closed' in port.last_error
    port.maybe_reopen(1_000_000_000)
    assert port.counts['reopened'] == 1
    assert port.send(0x110, bytes(8)) and not port.bus_off
    assert port.counts['bus_off_recovered'] == 1
    port.close()


def test_send_on_a_closed_port_never_raises(channel: str) -> None:
    port = CanPort('virtual', channel, bus_off_after=1)
    assert port.send(0x1, b'') is False
    assert port.bus_off and port.receive() == []


def test_bus_off_error_frame_marks_the_port(channel: str) -> None:
    port = CanPort('virtual', channel)
    port.open()
    with can.Bus(interface='virtual', channel=channel) as controller:
        controller.send(
            can.Message(arbitration_id=CAN_ERR_BUSOFF, is_error_frame=True, data=bytes(8))
        )
        controller.send(can.Message(arbitration_id=0x210, data=bytes(8)))
    frames = port.receive()
    assert [m.arbitration_id for m in frames] == [0x210]  # error frames are not data
    assert port.counts['error_frames'] == 1 and port.bus_off
    port.close()
