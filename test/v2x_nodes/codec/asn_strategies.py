"""Hypothesis strategies generated from the compiled schema's type tree.

Every strategy follows the ASN.1 modules (ranges, sizes, OPTIONAL members, CHOICE
alternatives, enumerations, named bits), so a change to a module changes what is generated.
List sizes are capped (``max_extra`` above the minimum) to keep examples small.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

from v2x_nodes.codec import uper
from v2x_nodes.codec.schema import load_schema

MAX_EXTRA = 2  # elements above a list's minimum size
MAX_TEXT = 12


def _types() -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for module in load_schema().tree.values():
        merged.update(module['types'])
    return merged


def _size(desc: dict[str, Any], cap: int) -> tuple[int, int]:
    size = desc.get('size')
    if not size:
        return 0, cap
    first = size[0]
    if isinstance(first, tuple):
        lo, hi = first
    else:
        lo = hi = first  # SIZE (n) and SIZE (n, ...): root size n
    return lo, min(hi, lo + cap)


def _bits(nbits: int) -> st.SearchStrategy:
    nbytes = (nbits + 7) // 8
    return st.integers(0, (1 << nbits) - 1).map(
        lambda v: ((v << (8 * nbytes - nbits)).to_bytes(nbytes, 'big'), nbits)
    )


def _open_type(desc: dict[str, Any]) -> st.SearchStrategy:
    """MessageFrameExt: a known message id with its message's UPER as the open type."""
    kind = uper.MessageKind.SSM
    inner = for_type(uper.TYPE_NAMES[kind])
    return inner.map(
        lambda v: {
            'messageId': uper.EXT_MESSAGE_IDS[kind],
            'value': uper.encode(uper.TYPE_NAMES[kind], v),
        }
    )


def _from_descriptor(desc: dict[str, Any]) -> st.SearchStrategy:
    kind = desc['type']
    if kind == 'INTEGER':
        ranges = desc.get('restricted-to')
        if ranges:
            lo, hi = ranges[0]
            return st.integers(lo, hi)
        return st.integers(-(1 << 31), 1 << 31)
    if kind == 'ENUMERATED':
        return st.sampled_from([name for name, _ in (v for v in desc['values'] if v)])
    if kind == 'BIT STRING':
        lo, _ = _size(desc, 0)
        return _bits(lo)
    if kind == 'OCTET STRING':
        lo, hi = _size(desc, 16)
        return st.binary(min_size=lo, max_size=hi)
    if kind == 'IA5String':
        lo, hi = _size(desc, MAX_TEXT)
        return st.text(st.characters(max_codepoint=127), min_size=lo, max_size=hi)
    if kind == 'BOOLEAN':
        return st.booleans()
    if kind == 'SEQUENCE':
        required, optional = {}, {}
        for member in desc['members']:
            if member is None:
                continue
            target = optional if member.get('optional') else required
            target[member['name']] = _member(member)
        return st.fixed_dictionaries(required, optional=optional)
    if kind == 'SEQUENCE OF':
        lo, hi = _size(desc, MAX_EXTRA)
        return st.lists(_member(desc['element']), min_size=lo, max_size=hi)
    if kind == 'CHOICE':
        return st.one_of(
            [
                _member(member).map(lambda v, n=member['name']: (n, v))
                for member in desc['members']
                if member is not None
            ]
        )
    return for_type(kind)  # a reference to a named type


def _member(desc: dict[str, Any]) -> st.SearchStrategy:
    return st.deferred(lambda: _from_descriptor(desc))


@cache
def for_type(type_name: str) -> st.SearchStrategy:
    """A strategy for values of the named ASN.1 type."""
    if type_name == 'MessageFrameExt':
        return _open_type(_types()[type_name])
    return st.deferred(lambda: _from_descriptor(_types()[type_name]))
