"""Signal plans: the fixed-time plan engine shared by the RSU's SPAT and the simulator."""

from rsu_nodes.signals.plan import (
    GroupState,
    Light,
    PlanError,
    SignalPlan,
    Stage,
    plan_from_dict,
)

__all__ = ['GroupState', 'Light', 'PlanError', 'SignalPlan', 'Stage', 'plan_from_dict']
