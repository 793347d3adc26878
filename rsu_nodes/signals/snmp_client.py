"""A small blocking SNMP v2c GET client over pysnmp, for polling a signal controller.

pysnmp is asyncio-based; the component polls from a timer, so each poll runs the request on a
private event loop and waits at most ``timeout_s`` (plus retries) for the answer.
"""

from __future__ import annotations

import asyncio

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    get_cmd,
)
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject


class SnmpError(RuntimeError):
    """No answer, or an SNMP error status; the message says which."""


class SnmpClient:
    def __init__(
        self, host: str, port: int, community: str, *, timeout_s: float, retries: int = 0
    ) -> None:
        self.address = (host, port)
        self.community = community
        self.timeout_s = timeout_s
        self.retries = retries
        self._loop = asyncio.new_event_loop()
        self._engine = SnmpEngine()
        self._target: UdpTransportTarget | None = None

    def get(self, oids: list[str]) -> dict[str, int]:
        """Integer values of ``oids``; objects the agent does not have are left out."""
        return self._loop.run_until_complete(self._get(oids))

    async def _get(self, oids: list[str]) -> dict[str, int]:
        if self._target is None:
            self._target = await UdpTransportTarget.create(
                self.address, timeout=self.timeout_s, retries=self.retries
            )
        indication, status, index, binds = await get_cmd(
            self._engine,
            CommunityData(self.community, mpModel=1),
            self._target,
            ContextData(),
            *(ObjectType(ObjectIdentity(oid)) for oid in oids),
        )
        if indication:
            raise SnmpError(f'{self.address[0]}:{self.address[1]}: {indication}')
        if status:
            where = oids[int(index) - 1] if index else '?'
            raise SnmpError(
                f'{self.address[0]}:{self.address[1]}: {status.prettyPrint()} at {where}'
            )
        values = {}
        for name, value in binds:
            if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView):
                continue
            try:
                values[str(name)] = int(value)
            except (TypeError, ValueError):
                raise SnmpError(f'{name}: not an integer: {value.prettyPrint()}') from None
        return values

    def close(self) -> None:
        self._engine.close_dispatcher()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()
