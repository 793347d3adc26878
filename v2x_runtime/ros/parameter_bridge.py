"""Declared component parameters as ROS 2 parameters: descriptors, types and values.

ROS enforces what a descriptor can say (type, read-only, numeric range of scalars); the
adapter's set-parameters callback enforces the rest with the component's own ``ParameterSpec``
(choices, element-wise ranges of lists, finiteness), so both runtimes accept the same values.
"""

from __future__ import annotations

import array
import math
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.parameter import Parameter

from v2x_runtime.parameters import ParameterSpec

_SCALAR_TYPES = {
    bool: Parameter.Type.BOOL,
    int: Parameter.Type.INTEGER,
    float: Parameter.Type.DOUBLE,
    str: Parameter.Type.STRING,
}
_ARRAY_TYPES = {
    bool: Parameter.Type.BOOL_ARRAY,
    int: Parameter.Type.INTEGER_ARRAY,
    float: Parameter.Type.DOUBLE_ARRAY,
    str: Parameter.Type.STRING_ARRAY,
}


def parameter_type(spec: ParameterSpec) -> Parameter.Type:
    """The static ROS parameter type of a declaration (from its default's type)."""
    return (_ARRAY_TYPES if spec.is_list else _SCALAR_TYPES)[spec.kind]


def descriptor(spec: ParameterSpec) -> ParameterDescriptor:
    """The ROS descriptor: description, type, range, read-only unless dynamic, constraints."""
    desc = ParameterDescriptor(
        name=spec.name,
        type=parameter_type(spec).value,
        description=spec.description,
        read_only=not spec.dynamic,
    )
    constraints = []
    if spec.range is not None and spec.kind in (int, float):
        low, high = spec.range
        if spec.is_list:
            constraints.append(f'each element in [{low}, {high}]')
        elif spec.kind is float:
            desc.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)
            ]
        else:
            desc.integer_range = [
                IntegerRange(from_value=math.ceil(low), to_value=math.floor(high), step=1)
            ]
    if spec.choices is not None:
        prefix = 'each element one of' if spec.is_list else 'one of'
        constraints.append(f'{prefix}: {", ".join(spec.choices)}')
    desc.additional_constraints = '; '.join(constraints)
    return desc


def from_ros(value: Any) -> Any:
    """A ROS parameter value in the component's terms (arrays → lists of Python scalars)."""
    if isinstance(value, array.array | tuple | list):
        return [v.item() if hasattr(v, 'item') else v for v in value]
    return value
