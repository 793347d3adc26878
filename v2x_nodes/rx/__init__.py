"""V2X receive side: ``v2x/rx`` frames -> verify -> decode -> typed messages."""

from v2x_nodes.rx.pipeline import Accepted, ReceivePipeline, Rejected, RxSecurity
from v2x_nodes.rx.receiver import V2xReceiver

__all__ = ['Accepted', 'ReceivePipeline', 'Rejected', 'RxSecurity', 'V2xReceiver']
