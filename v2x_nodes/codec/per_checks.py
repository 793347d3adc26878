"""Constraint checks after a UPER decode, pruned to those the bits can actually break.

asn1tools' constraint checker walks every field of a decoded value (≈ 40 % of a BSM decode),
yet most checks cannot fail after a UPER decode: a constrained whole number is read from a
fixed-width field as ``lb + n`` with ``n < 2**bits``, so it is never below ``lb`` and exceeds
``ub`` only when ``ub - lb + 1`` is not a power of two (X.691 §11.5.7.1, and §11.9.4.1 for
length determinants of SIZE-constrained types). This module walks asn1tools' checker tree and
its UPER codec tree side by side and keeps a check only where the codec does not already bound
the value; every check kept is asn1tools' own (or, for an INTEGER whose lower bound the field keeps,
its upper half with the same text), so error texts and field paths are unchanged.
Where the two trees do not match as expected (recursive types, unknown node kinds), the whole
asn1tools check of that subtree is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from asn1tools.codecs import ErrorWithLocation, per, uper
from asn1tools.codecs import constraints_checker as cc
from asn1tools.codecs.permitted_alphabet import IA5_STRING

Check = Callable[[Any], None]

_NEVER_FAIL = (
    cc.Boolean,
    cc.Enumerated,
    cc.Null,
    cc.Float,
    cc.Time,
    cc.Skip,
)


def pruned_check(compiled: Any) -> Check:
    """The pruned check of one asn1tools compiled UPER type (``spec._types[name]``)."""
    checker = compiled.constraints_checker._type
    inner = build(checker, compiled._type)
    if inner is None:
        return _nothing

    def check(value: Any) -> None:
        try:
            inner(value)
        except ErrorWithLocation as err:
            err.add_location(checker)
            raise

    return check


def _nothing(value: Any) -> None:
    """Nothing to check: the encoding bounds every constrained field."""


def _bounded_by_codec(minimum: Any, maximum: Any, codec: Any) -> bool:
    """Whether a UPER field read as ``codec.minimum + n`` (n of ``codec.number_of_bits``
    bits, no extension bit) can only fall within ``minimum..maximum``."""
    bits = getattr(codec, 'number_of_bits', None)
    if bits is None or getattr(codec, 'has_extension_marker', None):
        return False
    low = getattr(codec, 'minimum', None)
    if not isinstance(low, int) or not isinstance(maximum, int):
        return False
    if minimum != 'MIN' and (not isinstance(minimum, int) or low < minimum):
        return False
    return low + (1 << bits) - 1 <= maximum


def only_upper(checker: cc.Integer, codec: Any) -> bool:
    """Whether only the upper bound can break: a fixed-width field read from ``lb`` up."""
    return (
        isinstance(codec, uper.Integer)
        and not codec.has_extension_marker
        and codec.number_of_bits is not None
        and isinstance(checker.maximum, int)
        and (checker.minimum == 'MIN' or codec.minimum >= checker.minimum)
    )


def _upper_check(checker: cc.Integer) -> Check:
    """asn1tools' integer check (same text) with the bound the encoding keeps left out."""
    maximum = checker.maximum

    def check_upper(value: int) -> None:
        if value > maximum:
            raise cc.ConstraintsError(
                f'Expected an integer between {checker.minimum} and {maximum}, but got {value}.'
            )

    return check_upper


def size_needed(checker: cc.Type, codec: Any) -> bool:
    """Whether a SIZE constraint of ``checker`` can be broken by decoded bits."""
    if not checker.has_lower_bound() and not checker.has_upper_bound():
        return False
    return not _bounded_by_codec(checker.minimum, checker.maximum, codec)


def _members(codec: Any) -> dict[str, Any] | None:
    """Codec members by name (addition groups flattened, as the decoded dict has them)."""
    if isinstance(codec, per.MembersType):
        found: dict[str, Any] = {}
        for member in list(codec.root_members) + list(codec.additions or []):
            if isinstance(member, per.AdditionGroup):
                found.update(_members(member) or {})
            else:
                found[member.name] = member
        return found
    if isinstance(codec, per.Choice):
        members = _listed(codec.root_index_to_member)
        if codec.additions_index_to_member is not None:
            members += _listed(codec.additions_index_to_member)
        return {member.name: member for member in members}
    return None


def _listed(members: Any) -> list[Any]:
    return list(members.values()) if isinstance(members, dict) else list(members)


@cache
def build(checker: cc.Type, codec: Any) -> Check | None:
    """``_build_node``, once per pair of nodes: the generated decoder (``fast_decode``) asks
    for the check of every node of a tree, and each answer recurses into the subtree.
    asn1tools' nodes hash and compare by identity, and the cache holds them."""
    return _build_node(checker, codec)


def _build_node(checker: cc.Type, codec: Any) -> Check | None:
    """The check of ``checker`` given the codec that decoded the value; None: cannot fail."""
    if isinstance(checker, _NEVER_FAIL):
        return None
    if isinstance(checker, cc.Recursive) or codec is None or isinstance(codec, per.Recursive):
        return checker.encode  # not pruned
    if isinstance(checker, cc.Integer):
        if not checker.has_lower_bound() and not checker.has_upper_bound():
            return None
        if isinstance(codec, uper.Integer) and _bounded_by_codec(
            checker.minimum, checker.maximum, codec
        ):
            return None
        if only_upper(checker, codec):
            return _upper_check(checker)
        return checker.encode
    if isinstance(checker, cc.Dict):
        return _build_dict(checker, codec)
    if isinstance(checker, cc.Choice):
        return _build_choice(checker, codec)
    if isinstance(checker, cc.List):
        return _build_list(checker, codec)
    if isinstance(checker, cc.String):
        alphabet_free = (
            isinstance(checker, cc.IA5String)
            and checker.permitted_alphabet == IA5_STRING
            and isinstance(codec, uper.IA5String)
            and codec.bits_per_character == 7
        )
        if alphabet_free and not size_needed(checker, codec):
            return None
        return checker.encode
    if isinstance(checker, (cc.Bytes, cc.BitString)):
        return checker.encode if size_needed(checker, codec) else None
    return checker.encode  # a node kind this module does not know: asn1tools' full check


def _build_dict(checker: cc.Dict, codec: Any) -> Check | None:
    members = _members(codec)
    if members is None or not isinstance(codec, per.MembersType):
        return checker.encode
    kept = []
    for member in checker.members:
        check = build(member, members.get(member.name))
        if check is not None:
            kept.append((member.name, member, check))
    if not kept:
        return None

    def check_dict(data: dict[str, Any]) -> None:
        for name, member, check in kept:
            if name in data:
                try:
                    check(data[name])
                except ErrorWithLocation as err:
                    err.add_location(member)
                    raise

    return check_dict


def _build_choice(checker: cc.Choice, codec: Any) -> Check | None:
    members = _members(codec)
    if members is None or not isinstance(codec, per.Choice):
        return checker.encode
    kept = {}
    for member in checker.members:
        check = build(member, members.get(member.name))
        if check is not None:
            kept[member.name] = (member, check)
    if not kept:
        return None  # the decoder only yields alternatives it knows

    def check_choice(data: tuple[str, Any]) -> None:
        found = kept.get(data[0])
        if found is None:
            return
        member, check = found
        try:
            check(data[1])
        except ErrorWithLocation as err:
            err.add_location(member)
            raise

    return check_choice


def _build_list(checker: cc.List, codec: Any) -> Check | None:
    if not isinstance(codec, per.ArrayType):
        return checker.encode
    element = build(checker.element_type, codec.element_type)
    size = size_needed(checker, codec)
    if element is None and not size:
        return None
    size_check = _size_only(checker) if size else None
    if element is None:
        return size_check

    def check_list(data: list[Any]) -> None:
        if size_check is not None:
            size_check(data)
        for entry in data:
            element(entry)

    return check_list


def _size_only(checker: cc.List) -> Check:
    def check_size(data: list[Any]) -> None:
        if not checker.is_in_range(len(data)):
            raise cc.ConstraintsError(
                f'Expected a list of between {checker.minimum} and {checker.maximum} elements, '
                f'but got {len(data)}.'
            )

    return check_size
