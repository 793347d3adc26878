"""A specialised UPER encoder for one type, generated from asn1tools' compiled tree.

asn1tools encodes by walking its compiled type objects, one method call per node and bit
field: ~1.1 ms of the ~1.6 ms a BSM MessageFrame took in the BSM generator. At start this
module walks the same compiled UPER tree (``asn1tools.codecs.uper`` classes) and writes
straight-line Python for it: the whole encoding is one ``int`` that each field shifts in, with
a leading 1 as a sentinel so the bit count is its ``bit_length() - 1``. The source is
``exec``-ed once. Nothing of the layout is written by hand, so it follows the .asn files.

The common case is generated; everything else is handed to the asn1tools node itself on a
fresh encoder, whose bits are then shifted in (UPER has no alignment, so a node's bits do not
depend on where they start): an extension (a SEQUENCE with additions present, an INTEGER,
ENUMERATED, SIZE or CHOICE outside the root), and node kinds without a generated form
(strings, open types, unconstrained numbers, recursive types...). The output is asn1tools'
bytes for every value that passes its checks (property-tested in test_fast_encode.py). It
does not check constraints: the caller checks first (``encode_checks``) and falls back to
asn1tools on any exception raised here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asn1tools.codecs import per, uper

from v2x_nodes.codec.codegen import SourceWriter, compile_function

FastEncoder = Callable[[Any], bytes]

_ABSENT = object()  # a member missing from a SEQUENCE's dict (None is NULL's value)


def delegate(acc: int, node: Any, value: Any) -> int:
    """``acc`` with the bits asn1tools' ``node`` writes for ``value`` shifted in."""
    encoder = uper.Encoder()
    node.encode(value, encoder)
    for chunk, bits in encoder.chunks:
        acc = (acc << bits) | chunk
    return (acc << encoder.number_of_bits) | encoder.value


class _Writer(SourceWriter):
    """A source writer with the encoder's shifts and hand-offs."""

    def put(self, depth: int, bits: int, value: str) -> None:
        """Shift ``bits`` bits of ``value`` (an expression, 0 <= value < 2**bits) in."""
        if bits:
            self.emit(depth, f'a = (a << {bits}) | ({value})')

    def delegate(self, depth: int, node: Any, source: str) -> None:
        self.emit(depth, f'a = delegate(a, {self.const(node)}, {source})')


def _node(w: _Writer, node: Any, source: str, depth: int) -> None:
    """Emit code that shifts the encoding of ``node``'s value (in local ``source``) in."""
    w.unrolled(
        node,
        lambda: _dispatch(w, node, source, depth),
        lambda: w.delegate(depth, node, source),
    )


def _dispatch(w: _Writer, node: Any, source: str, depth: int) -> None:
    kind = type(node)
    if kind is per.Sequence:
        _sequence(w, node, source, depth)
    elif kind is uper.Integer and node.number_of_bits is not None:
        _integer(w, node, source, depth)
    elif kind is per.Enumerated:
        _enumerated(w, node, source, depth)
    elif kind is per.Boolean:
        w.emit(depth, f'a = (a << 1) | (1 if {source} else 0)')
    elif kind is per.Null:
        pass
    elif kind is uper.BitString and node.number_of_bits is not None:
        _bit_string(w, node, source, depth)
    elif kind is uper.OctetString and node.number_of_bits is not None:
        _octet_string(w, node, source, depth)
    elif kind is uper.SequenceOf and node.number_of_bits is not None:
        _sequence_of(w, node, source, depth)
    elif kind is uper.Choice and node.number_of_indefinite_bits is None:
        _choice(w, node, source, depth)
    else:  # strings, open types, unbounded sizes, SET, REAL, times...: asn1tools writes those
        w.delegate(depth, node, source)


def _outside(w: _Writer, depth: int, node: Any, source: str, test: str) -> None:
    """Where ``test`` holds the value is an extension (or out of the root): asn1tools writes
    the node; the lines after this one (one level deeper) are the root case."""
    w.emit(depth, f'if {test}:')
    w.delegate(depth + 1, node, source)
    w.emit(depth, 'else:')


def _sequence(w: _Writer, node: per.Sequence, source: str, depth: int) -> None:
    if node.additions is not None:
        names = w.const(frozenset(member.name for member in node.root_members))
        _outside(w, depth, node, source, f'not {source}.keys() <= {names}')
        depth += 1
        w.emit(depth, 'a <<= 1')  # the extension bit: no additions
    values: dict[int, str] = {}
    present: dict[int, str] = {}
    for member in node.root_members:
        value = values[id(member)] = w.name('m')
        key = repr(member.name)
        if member.optional:
            w.emit(depth, f'{value} = {source}.get({key}, ABSENT)')
            present[id(member)] = f'{value} is not ABSENT'
        elif member.default is not None:
            w.emit(depth, f'{value} = {source}.get({key}, ABSENT)')
            is_default = f'{w.const(member)}.is_default({value})'
            present[id(member)] = f'{value} is not ABSENT and not {is_default}'
        else:
            w.emit(depth, f'{value} = {source}[{key}]')
    if node.optionals:
        count = len(node.optionals)
        bits = ' | '.join(
            f'(({present[id(member)]}) << {count - 1 - i})'
            for i, member in enumerate(node.optionals)
        )
        w.put(depth, count, bits)
    for member in node.root_members:
        value = values[id(member)]
        if id(member) in present:
            flag = w.name('f')
            w.emit(depth, f'{flag} = {present[id(member)]}')
            w.emit(depth, f'if {flag}:')
            _node(w, member, value, depth + 1)
            w.emit(depth + 1, 'pass')
        else:
            _node(w, member, value, depth)


def _integer(w: _Writer, node: uper.Integer, source: str, depth: int) -> None:
    low, high = node.minimum, node.maximum
    if node.has_extension_marker:
        _outside(w, depth, node, source, f'not {low} <= {source} <= {high}')
        depth += 1
        w.emit(depth, 'a <<= 1')
    offset = f'{source} - {low}' if low else source
    w.put(depth, node.number_of_bits, offset)
    w.emit(depth, 'pass')


def _enumerated(w: _Writer, node: per.Enumerated, source: str, depth: int) -> None:
    table = w.const(dict(node.root_data_to_index))
    if node.additions_index_to_data is not None:
        _outside(w, depth, node, source, f'{source} not in {table}')
        depth += 1
        w.emit(depth, 'a <<= 1')
    w.put(depth, node.root_number_of_bits, f'{table}[{source}]')
    w.emit(depth, 'pass')


def _size(w: _Writer, node: Any, size: str, depth: int) -> None:
    """The SIZE field of a string or list of ``size`` elements (within the root)."""
    if node.minimum != node.maximum:
        offset = f'{size} - {node.minimum}' if node.minimum else size
        w.put(depth, node.number_of_bits, offset)


def _sized(w: _Writer, node: Any, source: str, size: str, depth: int) -> int:
    """Root-size test and the SIZE field; the depth of the root case."""
    low, high = node.minimum, node.maximum
    if node.has_extension_marker:
        _outside(w, depth, node, source, f'not {low} <= {size} <= {high}')
        depth += 1
        w.emit(depth, 'a <<= 1')
    elif low != high:  # beyond a plain SIZE: asn1tools' own (garbage-in) result, not ours
        _outside(w, depth, node, source, f'not {low} <= {size} <= {high}')
        depth += 1
    _size(w, node, size, depth)
    return depth


def _bit_string(w: _Writer, node: uper.BitString, source: str, depth: int) -> None:
    data, size = w.name('d'), w.name('s')
    w.emit(depth, f'{data}, {size} = {source}')
    if node.has_extension_marker:
        # outside the root asn1tools raises NotImplementedError: let it (the caller falls back)
        _outside(w, depth, node, source, f'not {node.minimum} <= {size} <= {node.maximum}')
        depth += 1
        w.emit(depth, 'a <<= 1')
    if node.has_named_bits:
        w.emit(depth, f'{data}, {size} = {w.const(node)}.rstrip_zeros({data}, {size})')
    if node.minimum != node.maximum:
        offset = f'{size} - {node.minimum}' if node.minimum else size
        w.put(depth, node.number_of_bits, offset)
    # asn1tools' append_bits: the first ``size`` bits of the bytes (nothing for 0 bits)
    w.emit(depth, f'if {size}:')
    shifted = f'int.from_bytes({data}, BIG) >> (8 * len({data}) - {size})'
    w.emit(depth + 1, f'a = (a << {size}) | ({shifted})')


def _octet_string(w: _Writer, node: uper.OctetString, source: str, depth: int) -> None:
    size = w.name('s')
    w.emit(depth, f'{size} = len({source})')
    depth = _sized(w, node, source, size, depth)
    w.emit(depth, f'a = (a << (8 * {size})) | int.from_bytes({source}, BIG)')


def _sequence_of(w: _Writer, node: uper.SequenceOf, source: str, depth: int) -> None:
    size, item = w.name('s'), w.name('x')
    w.emit(depth, f'{size} = len({source})')
    depth = _sized(w, node, source, size, depth)
    w.emit(depth, f'for {item} in {source}:')
    _node(w, node.element_type, item, depth + 1)
    w.emit(depth + 1, 'pass')


def _choice(
    w: _Writer, node: uper.Choice, source: str, depth: int, only: str | None = None
) -> None:
    """A CHOICE; with ``only``, that alternative alone (asn1tools writes the others)."""
    index, value = w.name('c'), w.name('v')
    table = w.const(dict(node.root_name_to_index))
    w.emit(depth, f'{index} = {table}.get({source}[0])')
    _outside(w, depth, node, source, f'{index} is None')  # an addition (or unknown): asn1tools
    depth += 1
    if node.additions_index_to_member is not None:
        w.emit(depth, 'a <<= 1')
    if len(node.root_index_to_member) > 1:
        w.put(depth, node.root_number_of_bits, index)
    w.emit(depth, f'{value} = {source}[1]')
    keyword = 'if'
    for i, member in sorted(node.root_index_to_member.items()):
        if only is not None and member.name != only:
            continue
        w.emit(depth, f'{keyword} {index} == {i}:')
        _node(w, member, value, depth + 1)
        w.emit(depth + 1, 'pass')
        keyword = 'elif'
    if only is not None:  # built for another alternative
        w.emit(depth, 'else:' if keyword == 'elif' else 'if True:')
        w.emit(depth + 1, 'raise LookupError')


def source_of(node: Any, alternative: str | None = None) -> tuple[str, dict[str, Any]]:
    """Python source of ``encode(value) -> bytes`` for ``node`` (an asn1tools UPER type); for
    a CHOICE with ``alternative``, of that alternative only (others raise LookupError)."""
    w = _Writer()
    w.emit(0, 'def encode(value):')
    w.emit(1, 'a = 1')  # the sentinel
    if alternative is not None:
        w.active.add(id(node))
        _choice(w, node, 'value', 1, only=alternative)
    else:
        _node(w, node, 'value', 1)
    w.emit(1, 'n = a.bit_length() - 1')
    w.emit(1, 'pad = -n % 8')
    # the sentinel lands alone in an extra leading byte, dropped
    w.emit(1, 'return (a << pad).to_bytes((n + pad) // 8 + 1, BIG)[1:]')
    return w.source(), w.consts


def _compile(node: Any, alternative: str | None = None) -> FastEncoder:
    source, consts = source_of(node, alternative)
    where = node.name if alternative is None else f'{node.name}.{alternative}'
    globals_ = {'delegate': delegate, 'ABSENT': _ABSENT, 'BIG': 'big'}
    return compile_function(source, consts, f'<fast_encode {where}>', 'encode', **globals_)


class _ChoiceEncoder:
    """A root-level CHOICE (the MessageFrame): one generated encoder per alternative, built on
    its first value (a car sends BSMs only: ~8 ms to build that one instead of ~40 ms for all)."""

    def __init__(self, node: uper.Choice) -> None:
        self.node = node
        self.encoders: dict[Any, FastEncoder] = {}

    def prepare(self, name: str) -> None:
        """Generate alternative ``name``'s encoder now (a component's start), not on its first
        value."""
        if name not in self.encoders:
            self.encoders[name] = _compile(self.node, name)

    def __call__(self, value: Any) -> bytes:
        name = value[0]
        encoder = self.encoders.get(name)
        if encoder is None:  # (an extension alternative's: asn1tools writes it all)
            encoder = self.encoders[name] = _compile(self.node, name)
        return encoder(value)


def build(node: Any) -> FastEncoder:
    """The generated encoder of ``node`` (``spec._types[name]._type``): asn1tools' bytes for a
    value that passes the encode checks; any exception means: encode with asn1tools."""
    if type(node) is uper.Choice and node.number_of_indefinite_bits is None:
        return _ChoiceEncoder(node)
    return _compile(node)
