"""One-pass check of a value before a UPER encode: asn1tools' type and constraint checks fused.

``spec.encode(..., check_constraints=True)`` walks a value twice before encoding it (Python
types, then constraints), through generic per-node methods: about half of an encode. The check
built here walks it once, with closures specialised per node (bounds and alphabets read once
from asn1tools' own checker trees). It is a *filter*, never a judge: it raises ``DoubtError`` on
anything it does not vouch for, and the caller then runs asn1tools' full checks, which give the
verdict and the error text. So a value it passes would have passed both asn1tools checks
(property-tested in test_encode_checks.py), and a value it doubts costs one extra walk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asn1tools.codecs import constraints_checker as cc
from asn1tools.codecs import type_checker as tc
from asn1tools.codecs.permitted_alphabet import IA5_STRING

from v2x_nodes.codec.codegen import SourceWriter, compile_function

Check = Callable[[Any], None]


class DoubtError(Exception):
    """The fast check cannot vouch for a value: asn1tools' full checks decide."""


def fast_check(compiled: Any) -> Check:
    """The fused check of one asn1tools compiled type (``spec._types[name]``)."""
    return _build(compiled.type_checker._type, compiled.constraints_checker._type)


def _doubt(value: Any) -> None:
    raise DoubtError


def _nothing(value: Any) -> None:
    """Both asn1tools checks pass any value of this node (an open type)."""


def _full(types: Any, constraints: Any) -> Check:
    """asn1tools' own two checks of a node this module does not specialise."""

    def check_full(value: Any) -> None:
        types.encode(value)
        constraints.encode(value)

    return check_full


def _bounds(node: cc.Type) -> tuple[Any, Any]:
    """(lower, upper) of a checker node, None where unbounded."""
    low = node.minimum if node.has_lower_bound() else None
    high = node.maximum if node.has_upper_bound() else None
    return low, high


def _int_check(low: Any, high: Any) -> Check:
    """An INTEGER: a plain int (asn1tools also takes str; those go to the full check)."""
    if low is not None and high is not None:

        def check_range(value: Any) -> None:
            if type(value) is not int or not low <= value <= high:
                raise DoubtError

        return check_range
    if low is not None:

        def check_low(value: Any) -> None:
            if type(value) is not int or value < low:
                raise DoubtError

        return check_low
    if high is not None:

        def check_high(value: Any) -> None:
            if type(value) is not int or value > high:
                raise DoubtError

        return check_high

    def check_int(value: Any) -> None:
        if type(value) is not int:
            raise DoubtError

    return check_int


def _size_ok(low: Any, high: Any) -> Callable[[int], bool]:
    low = 0 if low is None else low
    high = float('inf') if high is None else high
    return lambda n: low <= n <= high


def _bytes_check(constraints: cc.Type) -> Check:
    size_ok = _size_ok(*_bounds(constraints))

    def check_bytes(value: Any) -> None:
        if type(value) not in (bytes, bytearray) or not size_ok(len(value)):
            raise DoubtError

    return check_bytes


def _bit_string_check(constraints: cc.Type) -> Check:
    size_ok = _size_ok(*_bounds(constraints))

    def check_bits(value: Any) -> None:
        if type(value) is not tuple or len(value) != 2:
            raise DoubtError
        data, nbits = value
        if (
            type(data) not in (bytes, bytearray)
            or type(nbits) is not int
            or 8 * len(data) < nbits
            or not size_ok(nbits)
        ):
            raise DoubtError

    return check_bits


def _string_check(constraints: cc.String) -> Check:
    size_ok = _size_ok(*_bounds(constraints))
    alphabet = constraints.permitted_alphabet
    if alphabet is None:
        chars_ok: Callable[[str], bool] = lambda text: True  # noqa: E731
    elif alphabet == IA5_STRING:
        chars_ok = str.isascii
    else:
        allowed = frozenset(alphabet)
        chars_ok = allowed.issuperset

    def check_string(value: Any) -> None:
        if type(value) is not str or not size_ok(len(value)) or not chars_ok(value):
            raise DoubtError

    return check_string


def _dict_check(types: tc.Dict, constraints: cc.Dict) -> Check:
    by_name = {member.name: member for member in constraints.members}
    if [m.name for m in types.members] != list(by_name):
        return _full(types, constraints)
    members = tuple((member.name, _build(member, by_name[member.name])) for member in types.members)

    def check_dict(value: Any) -> None:
        if type(value) is not dict:
            raise DoubtError
        for name, check in members:
            if name in value:
                check(value[name])

    return check_dict


def _list_check(types: tc.List, constraints: cc.List) -> Check:
    size_ok = _size_ok(*_bounds(constraints))
    element = _build(types.element_type, constraints.element_type)

    def check_list(value: Any) -> None:
        if type(value) is not list or not size_ok(len(value)):
            raise DoubtError
        for entry in value:
            element(entry)

    return check_list


def _choice_check(types: tc.Choice, constraints: cc.Choice) -> Check:
    by_name = constraints.name_to_member
    if set(types.name_to_member) != set(by_name):
        return _full(types, constraints)
    members = {name: _build(member, by_name[name]) for name, member in types.name_to_member.items()}

    def check_choice(value: Any) -> None:
        if type(value) is not tuple or len(value) != 2:
            raise DoubtError
        members.get(value[0], _doubt)(value[1])

    return check_choice


def _build(types: Any, constraints: Any) -> Check:
    """The fused check of one node of asn1tools' type-checker and constraint-checker trees."""
    kind = type(types)
    if kind is tc.Integer and type(constraints) is cc.Integer:
        return _int_check(*_bounds(constraints))
    if kind is tc.Boolean:
        return _bool_check
    if kind is tc.Enumerated and not types._numeric_enums:
        return _str_type_check  # an unknown name fails in the encoder, then the full path
    if kind is tc.Null:
        return _null_check
    if kind is tc.Skip and type(constraints) is cc.Skip:
        return _nothing
    if kind is tc.Bytes and type(constraints) is cc.Bytes:
        return _bytes_check(constraints)
    if kind is tc.BitString and type(constraints) is cc.BitString:
        return _bit_string_check(constraints)
    if kind is tc.String and isinstance(constraints, cc.String):
        return _string_check(constraints)
    if kind is tc.Dict and type(constraints) is cc.Dict:
        return _dict_check(types, constraints)
    if kind is tc.List and type(constraints) is cc.List:
        return _list_check(types, constraints)
    if kind is tc.Choice and type(constraints) is cc.Choice:
        return _choice_check(types, constraints)
    return _full(types, constraints)  # recursive types and kinds this schema does not use


def _bool_check(value: Any) -> None:
    if value is not True and value is not False:
        raise DoubtError


def _str_type_check(value: Any) -> None:
    if type(value) is not str:
        raise DoubtError


def _null_check(value: Any) -> None:
    if value is not None:
        raise DoubtError


# --- the same check as generated straight-line code --------------------------------------
# The closures above cost a Python call per node (~30 per BSM, ~250 per MAP); most of the
# encode check went into those calls. ``generated_check`` writes the same tests as one
# function per type (per alternative of a root CHOICE), in the same order, and calls the
# closures above only for the node kinds it does not inline (strings, bytes, bit strings,
# open types, recursive types): it vouches for exactly the values ``fast_check`` vouches for
# (property-tested).


class _CheckWriter(SourceWriter):
    def doubt_if(self, depth: int, condition: str) -> None:
        self.emit(depth, f'if {condition}:')
        self.emit(depth + 1, 'raise DoubtError')


def _gen(w: _CheckWriter, types: Any, constraints: Any, src: str, depth: int) -> None:
    """Emit the check of one node (value in local ``src``)."""
    w.unrolled(
        types,
        lambda: _gen_node(w, types, constraints, src, depth),
        lambda: w.emit(depth, f'{w.const(_build(types, constraints))}({src})'),
    )


def _outside(type_test: str, value: str, constraints: Any) -> str:
    """The generated test that doubts a value: wrong type, or ``value`` out of the bounds."""
    low, high = _bounds(constraints)
    tests = [type_test]
    if low is not None:
        tests.append(f'{value} < {low!r}')
    if high is not None:
        tests.append(f'{value} > {high!r}')
    return ' or '.join(tests)


def _gen_node(w: _CheckWriter, types: Any, constraints: Any, src: str, depth: int) -> None:
    kind = type(types)
    if kind is tc.Integer and type(constraints) is cc.Integer:
        w.doubt_if(depth, _outside(f'type({src}) is not int', src, constraints))
    elif kind is tc.Boolean:
        w.doubt_if(depth, f'{src} is not True and {src} is not False')
    elif kind is tc.Enumerated and not types._numeric_enums:
        w.doubt_if(depth, f'type({src}) is not str')
    elif kind is tc.Null:
        w.doubt_if(depth, f'{src} is not None')
    elif kind is tc.Skip and type(constraints) is cc.Skip:
        pass
    elif kind is tc.Dict and type(constraints) is cc.Dict and _same_members(types, constraints):
        by_name = {member.name: member for member in constraints.members}
        w.doubt_if(depth, f'type({src}) is not dict')
        for member in types.members:
            item = w.name('m')
            w.emit(depth, f'{item} = {src}.get({member.name!r}, ABSENT)')
            w.emit(depth, f'if {item} is not ABSENT:')
            _gen(w, member, by_name[member.name], item, depth + 1)
            w.emit(depth + 1, 'pass')
    elif kind is tc.List and type(constraints) is cc.List:
        w.doubt_if(depth, _outside(f'type({src}) is not list', f'len({src})', constraints))
        item = w.name('x')
        w.emit(depth, f'for {item} in {src}:')
        _gen(w, types.element_type, constraints.element_type, item, depth + 1)
        w.emit(depth + 1, 'pass')
    elif (
        kind is tc.Choice
        and type(constraints) is cc.Choice
        and set(types.name_to_member) == set(constraints.name_to_member)
    ):
        _gen_choice(w, types, constraints, src, depth, only=None)
    else:  # strings, bytes, bit strings, open types, recursive: the closure of that node
        w.emit(depth, f'{w.const(_build(types, constraints))}({src})')


def _same_members(types: tc.Dict, constraints: cc.Dict) -> bool:
    """The members ``_dict_check`` specialises (else it runs asn1tools' full check)."""
    return [m.name for m in types.members] == [m.name for m in constraints.members]


def _gen_choice(
    w: _CheckWriter, types: Any, constraints: Any, src: str, depth: int, *, only: str | None
) -> None:
    w.doubt_if(depth, f'type({src}) is not tuple or len({src}) != 2')
    name, item = w.name('n'), w.name('v')
    w.emit(depth, f'{name}, {item} = {src}')
    keyword = 'if'
    for member_name, member in types.name_to_member.items():
        if only is not None and member_name != only:
            continue
        w.emit(depth, f'{keyword} {name} == {member_name!r}:')
        _gen(w, member, constraints.name_to_member[member_name], item, depth + 1)
        w.emit(depth + 1, 'pass')
        keyword = 'elif'
    w.emit(depth, 'else:' if keyword == 'elif' else 'if True:')
    w.emit(depth + 1, 'raise DoubtError')


def _compile_check(types: Any, constraints: Any, only: str | None = None) -> Check:
    w = _CheckWriter()
    w.emit(0, 'def check(value):')
    if only is not None:
        w.active.add(id(types))
        _gen_choice(w, types, constraints, 'value', 1, only=only)
    else:
        _gen(w, types, constraints, 'value', 1)
    w.emit(1, 'return None')
    where = f'<encode_check {types.name}{"." + only if only else ""}>'
    return compile_function(
        w.source(), w.consts, where, 'check', DoubtError=DoubtError, ABSENT=_ABSENT
    )


_ABSENT = object()


class _ChoiceCheck:
    """The generated check of a root CHOICE (the MessageFrame): one function per alternative,
    built on its first value or by ``prepare``; an unknown alternative is doubted."""

    def __init__(self, types: tc.Choice, constraints: cc.Choice) -> None:
        self.types, self.constraints = types, constraints
        self.checks: dict[str, Check] = {}

    def prepare(self, name: str) -> Check:
        check = self.checks.get(name)
        if check is None:
            check = self.checks[name] = _compile_check(self.types, self.constraints, name)
        return check

    def __call__(self, value: Any) -> None:
        if type(value) is not tuple or len(value) != 2:
            raise DoubtError
        name = value[0]
        check = self.checks.get(name) if type(name) is str else None
        if check is None:
            if name not in self.types.name_to_member:
                raise DoubtError
            check = self.prepare(name)
        check(value)


def generated_check(compiled: Any) -> Check:
    """``fast_check`` of one compiled type as generated code (same verdicts)."""
    types, constraints = compiled.type_checker._type, compiled.constraints_checker._type
    if (
        type(types) is tc.Choice
        and type(constraints) is cc.Choice
        and set(types.name_to_member) == set(constraints.name_to_member)
    ):
        return _ChoiceCheck(types, constraints)
    return _compile_check(types, constraints)
