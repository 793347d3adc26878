"""V2X transmit side: typed messages -> UPER -> signed SPDU -> ``V2xFrame`` on ``v2x/tx``."""

from v2x_nodes.tx.framer import DEFAULT_PSIDS, Framer, TxSecurity, declare_framer
from v2x_nodes.tx.transmitter import V2xTransmitter

__all__ = ['DEFAULT_PSIDS', 'Framer', 'TxSecurity', 'V2xTransmitter', 'declare_framer']
