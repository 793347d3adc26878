"""A specialised UPER decoder for one alternative of a CHOICE, generated from asn1tools' tree.

asn1tools decodes by walking its compiled type objects and reading each field from a string of
'0'/'1' characters: ~55 us for a BSM MessageFrame, the largest share of the receive path. At
start this module walks the same compiled UPER tree (``asn1tools.codecs.uper`` classes) and
writes straight-line Python for it: the whole frame is one ``int`` (``int.from_bytes``), each
field one shift and mask, each SEQUENCE's presence bitmap one read. The source is ``exec``-ed
once. Nothing of the layout is written by hand, so it follows the .asn files.

It only covers the common case and says so: an extension bit set (SEQUENCE, CHOICE, INTEGER,
ENUMERATED, SIZE), an enumeration index or CHOICE index the root does not have, a node kind it
does not know (open types, unconstrained numbers, non-ASCII strings...), or running out of bits
raise ``UnsupportedError`` (reading past the end makes a negative shift, a ``ValueError``; a
character code outside a string's alphabet a ``KeyError``); the caller then decodes with
asn1tools, which gives the value or the error text. Constraint checks are not done here: the
caller runs the same ``per_checks`` on the value.

``ChoiceDecoder`` reads a root CHOICE's index and hands the frame to that alternative's
decoder, generated on its first frame: the simulator's receivers get BSM, SPAT, RSM and MAP,
which asn1tools' generic walk decoded in ~1-4 ms each (SPAT, RSM, MAP: most of the receivers'
decode cost, since the BSM had its generated decoder already).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asn1tools.codecs import constraints_checker as cc
from asn1tools.codecs import per, uper

from v2x_nodes.codec import per_checks
from v2x_nodes.codec.codegen import SourceWriter, compile_function


class UnsupportedError(Exception):
    """This input (or type) is outside what the generated decoder covers: use asn1tools."""


FastDecoder = Callable[[bytes], tuple[Any, int]]


class _Writer(SourceWriter):
    """A source writer with the decoder's reads."""

    def read(self, depth: int, target: str, bits: int) -> None:
        """``target`` = the next ``bits`` bits as an unsigned number (ValueError past the end)."""
        if bits == 0:
            self.emit(depth, f'{target} = 0')
            return
        self.emit(depth, f'{target} = (v >> (n - p - {bits})) & {(1 << bits) - 1}')
        self.emit(depth, f'p += {bits}')

    def unsupported(self, depth: int) -> None:
        self.emit(depth, 'raise UnsupportedError')

    def undecoded(self, depth: int, target: str) -> None:
        """A node left to asn1tools (``target`` bound for the generated code's sake)."""
        self.unsupported(depth)
        self.emit(depth, f'{target} = None')

    def ext_bit(self, depth: int) -> None:
        """An extension bit that must be 0 (set: additions, left to asn1tools)."""
        bit = self.name('e')
        self.read(depth, bit, 1)
        self.emit(depth, f'if {bit}:')
        self.unsupported(depth + 1)


def _node(w: _Writer, node: Any, target: str, depth: int, checker: Any = None) -> None:
    """Emit code that leaves the decoded value of ``node`` in the local ``target``, and that
    raises ``UnsupportedError`` where the value breaks a constraint ``per_checks`` checks
    (``checker``: asn1tools' constraint checker node of the value; None: nothing to check)."""
    check = per_checks.build(checker, node) if checker is not None else None
    inner = checker if check is not None and _descends(checker, node, check) else None
    w.unrolled(
        node,
        lambda: _dispatch(w, node, target, depth, inner),
        lambda: w.undecoded(depth, target),
    )
    if check is not None and inner is None:  # a leaf (or a subtree asn1tools checks whole)
        if isinstance(checker, cc.Integer) and per_checks.only_upper(checker, node):
            w.emit(depth, f'if {target} > {checker.maximum!r}:')
            w.unsupported(depth + 1)
        else:  # the same check, its error (any exception) hands the frame to asn1tools
            w.emit(depth, f'{w.const(check)}({target})')


def _descends(checker: Any, node: Any, check: Any) -> bool:
    """Whether ``per_checks`` checks this container member by member (its members' checks
    are then written into theirs), not with asn1tools' check of the whole value."""
    if check == checker.encode:
        return False
    return (
        (isinstance(checker, cc.Dict) and isinstance(node, per.Sequence))
        or (isinstance(checker, cc.List) and isinstance(node, uper.SequenceOf))
        or (isinstance(checker, cc.Choice) and isinstance(node, uper.Choice))
    )


def _dispatch(w: _Writer, node: Any, target: str, depth: int, checker: Any) -> None:
    if isinstance(node, per.Sequence):
        _sequence(w, node, target, depth, checker)
    elif isinstance(node, uper.Integer):
        _integer(w, node, target, depth)
    elif isinstance(node, per.Enumerated):
        _enumerated(w, node, target, depth)
    elif isinstance(node, per.Boolean):
        w.read(depth, target, 1)
        w.emit(depth, f'{target} = bool({target})')
    elif isinstance(node, per.Null):
        w.emit(depth, f'{target} = None')
    elif isinstance(node, uper.BitString):
        _bit_string(w, node, target, depth)
    elif isinstance(node, uper.OctetString):
        _octet_string(w, node, target, depth)
    elif isinstance(node, uper.SequenceOf):
        _sequence_of(w, node, target, depth, checker)
    elif isinstance(node, uper.Choice):
        _choice(w, node, target, depth, checker)
    elif (
        isinstance(node, uper.KnownMultiplierStringType)
        and node.ENCODING == 'ascii'
        and node.bits_per_character <= 8
    ):
        _string(w, node, target, depth)
    else:  # open types, other strings, SET, REAL, times...: asn1tools decodes those
        w.undecoded(depth, target)


def _sequence(w: _Writer, node: per.Sequence, target: str, depth: int, checker: Any) -> None:
    checkers = {m.name: m for m in checker.members} if checker is not None else {}
    if node.additions is not None:
        w.ext_bit(depth)
    present: dict[int, str] = {}
    if node.optionals:
        bitmap = w.name('o')
        count = len(node.optionals)
        w.read(depth, bitmap, count)
        for i, member in enumerate(node.optionals):
            present[id(member)] = f'{bitmap} & {1 << (count - 1 - i)}'
    w.emit(depth, f'{target} = {{}}')
    for member in node.root_members:
        value = w.name('m')
        key = repr(member.name)
        member_checker = checkers.get(member.name)
        if id(member) in present:
            w.emit(depth, f'if {present[id(member)]}:')
            _node(w, member, value, depth + 1, member_checker)
            w.emit(depth + 1, f'{target}[{key}] = {value}')
            if member.has_default():
                w.emit(depth, 'else:')
                if not _default_passes(member_checker, member):
                    w.unsupported(depth + 1)
                w.emit(depth + 1, f'{target}[{key}] = {w.const(member.default)}')
        else:
            _node(w, member, value, depth, member_checker)
            w.emit(depth, f'{target}[{key}] = {value}')


def _default_passes(checker: Any, member: Any) -> bool:
    """Whether the DEFAULT value filled in for an absent member passes its check."""
    check = per_checks.build(checker, member) if checker is not None else None
    if check is None:
        return True
    try:
        check(member.default)
    except Exception:
        return False
    return True


def _integer(w: _Writer, node: uper.Integer, target: str, depth: int) -> None:
    if node.number_of_bits is None:  # semi-/unconstrained: a length determinant, left to asn1tools
        w.unsupported(depth)
        w.emit(depth, f'{target} = None')
        return
    if node.has_extension_marker:
        w.ext_bit(depth)
    w.read(depth, target, node.number_of_bits)
    if node.minimum:
        w.emit(depth, f'{target} += {node.minimum}')


def _enumerated(w: _Writer, node: per.Enumerated, target: str, depth: int) -> None:
    if node.additions_index_to_data is not None:
        w.ext_bit(depth)
    index = w.name('i')
    w.read(depth, index, node.root_number_of_bits)
    table = [node.root_index_to_data.get(i) for i in range(1 << node.root_number_of_bits)]
    missing = [i for i, item in enumerate(table) if i not in node.root_index_to_data]
    if missing:
        w.emit(depth, f'if {index} in {w.const(frozenset(missing))}:')
        w.unsupported(depth + 1)
    w.emit(depth, f'{target} = {w.const(tuple(table))}[{index}]')


def _length(w: _Writer, node: Any, target: str, depth: int) -> bool:
    """The SIZE of a string or list in ``target``; False where the node is not covered."""
    if node.number_of_bits is None:  # unbounded: a length determinant, left to asn1tools
        w.unsupported(depth)
        w.emit(depth, f'{target} = None')
        return False
    if node.has_extension_marker:
        w.ext_bit(depth)
    if node.minimum != node.maximum:
        w.read(depth, target, node.number_of_bits)
        if node.minimum:
            w.emit(depth, f'{target} += {node.minimum}')
    else:
        w.emit(depth, f'{target} = {node.minimum}')
    return True


def _bit_string(w: _Writer, node: uper.BitString, target: str, depth: int) -> None:
    size = w.name('s')
    if not _length(w, node, size, depth):
        return
    bits = w.name('b')
    # the bits left-aligned in whole bytes: what asn1tools' read_bits returns
    w.emit(depth, f'{bits} = (v >> (n - p - {size})) & ((1 << {size}) - 1)')
    w.emit(depth, f'p += {size}')
    left_aligned = f'({bits} << (-{size} % 8)).to_bytes(({size} + 7) // 8, BIG)'
    w.emit(depth, f'{target} = ({left_aligned}, {size})')


def _octet_string(w: _Writer, node: uper.OctetString, target: str, depth: int) -> None:
    size = w.name('s')
    if not _length(w, node, size, depth):
        return
    octets = f'(v >> (n - p - 8 * {size})) & ((1 << (8 * {size})) - 1)'
    w.emit(depth, f'{target} = ({octets}).to_bytes({size}, BIG)')
    w.emit(depth, f'p += 8 * {size}')


def _string(w: _Writer, node: uper.KnownMultiplierStringType, target: str, depth: int) -> None:
    """IA5String, VisibleString, PrintableString, NumericString: ``bits_per_character`` bits
    per character, an index into the permitted alphabet (asn1tools' ``decode``: the alphabet
    maps the index to a code, one byte when <= 8 bits, decoded as ASCII)."""
    size = w.name('s')
    if not _length(w, node, size, depth):
        return
    bits = node.bits_per_character
    chars: dict[int, str] = {}
    for index, code in node.permitted_alphabet.decode_map.items():
        if 0 <= index < 1 << bits and (code & 0xFF) < 0x80:
            chars[index] = chr(code & 0xFF)
    table, parts = w.const(chars), w.name('t')
    w.emit(depth, f'{parts} = []')
    w.emit(depth, f'for _ in range({size}):')
    w.emit(depth + 1, f'{parts}.append({table}[(v >> (n - p - {bits})) & {(1 << bits) - 1}])')
    w.emit(depth + 1, f'p += {bits}')
    w.emit(depth, f"{target} = ''.join({parts})")


def _sequence_of(w: _Writer, node: uper.SequenceOf, target: str, depth: int, checker: Any) -> None:
    size = w.name('s')
    if not _length(w, node, size, depth):
        return
    if checker is not None and per_checks.size_needed(checker, node):
        w.emit(depth, f'if not {w.const(checker.is_in_range)}({size}):')
        w.unsupported(depth + 1)
    item = w.name('x')
    element = checker.element_type if checker is not None else None
    w.emit(depth, f'{target} = []')
    w.emit(depth, f'for _ in range({size}):')
    _node(w, node.element_type, item, depth + 1, element)
    w.emit(depth + 1, f'{target}.append({item})')


def _choice(
    w: _Writer,
    node: uper.Choice,
    target: str,
    depth: int,
    checker: Any,
    *,
    only: str | None = None,
) -> None:
    checkers = {m.name: m for m in checker.members} if checker is not None else {}
    if node.number_of_indefinite_bits is not None:
        w.unsupported(depth)
        w.emit(depth, f'{target} = None')
        return
    if node.additions_index_to_member is not None:
        w.ext_bit(depth)
    index = w.name('c')
    if len(node.root_index_to_member) > 1:
        w.read(depth, index, node.root_number_of_bits)
    else:
        w.emit(depth, f'{index} = 0')
    keyword = 'if'
    for i, member in sorted(node.root_index_to_member.items()):
        if only is not None and member.name != only:
            continue
        value = w.name('a')
        w.emit(depth, f'{keyword} {index} == {i}:')
        _node(w, member, value, depth + 1, checkers.get(member.name))
        w.emit(depth + 1, f'{target} = ({member.name!r}, {value})')
        keyword = 'elif'
    w.emit(depth, 'else:' if keyword == 'elif' else 'if True:')
    w.unsupported(depth + 1)


def source_of(
    choice: uper.Choice, alternative: str, checker: Any = None
) -> tuple[str, dict[str, Any]]:
    """Python source of ``decode(data) -> ((alternative, value), bits used)`` and its
    constants, for ``choice`` (an asn1tools UPER CHOICE) carrying ``alternative``; with
    ``checker`` (the CHOICE's constraint checker node), a value that breaks a constraint
    ``per_checks`` checks raises ``UnsupportedError``."""
    w = _Writer()
    w.emit(0, 'def decode(data):')
    w.emit(1, 'n = 8 * len(data)')
    w.emit(1, 'v = int.from_bytes(data, BIG)')
    w.emit(1, 'p = 0')
    if checker is not None and not foldable(choice, checker):
        raise ValueError(f'{choice.name}: its check is not per alternative')
    check = per_checks.build(checker, choice) if checker is not None else None
    _choice(w, choice, 'r', 1, checker if check is not None else None, only=alternative)
    w.emit(1, 'return r, p')
    return w.source(), w.consts


def foldable(choice: uper.Choice, checker: Any) -> bool:
    """Whether ``per_checks``' check of ``choice`` goes alternative by alternative (or has
    nothing to check), so that the generated decoders can do it."""
    check = per_checks.build(checker, choice)
    return check is None or _descends(checker, choice, check)


def build(choice: uper.Choice, alternative: str, checker: Any = None) -> FastDecoder:
    """The generated decoder of ``alternative`` of ``choice``.

    It returns the asn1tools value and the number of bits read; it raises ``UnsupportedError``
    (or ``ValueError`` past the end of the data, ``KeyError`` outside a string's alphabet)
    where asn1tools must decide. With ``checker`` (``foldable``), a value it returns passes
    ``per_checks.pruned_check``: one that would not raises instead.
    """
    source, consts = source_of(choice, alternative, checker)
    where = f'<fast_decode {choice.name}.{alternative}>'
    return compile_function(
        source, consts, where, 'decode', UnsupportedError=UnsupportedError, BIG='big'
    )


class ChoiceDecoder:
    """The generated decoders of a root CHOICE (the MessageFrame): reads the index and calls
    that alternative's decoder (``build``), generated on its first frame; raises
    ``UnsupportedError`` for an extension or an alternative not in ``alternatives``. With
    ``checker`` (asn1tools' constraint checker of the CHOICE), ``checked`` says whether the
    values it returns pass ``per_checks.pruned_check`` (the checks written into the code);
    if not, the caller checks them."""

    def __init__(self, choice: uper.Choice, alternatives: Any, checker: Any = None) -> None:
        wanted = set(alternatives)
        self.choice = choice
        self.checked = checker is not None and foldable(choice, checker)
        self.checker = checker if self.checked else None
        self.ext = 1 if choice.additions_index_to_member is not None else 0
        many = len(choice.root_index_to_member) > 1
        self.bits = choice.root_number_of_bits if many else 0
        self.names = {
            i: member.name
            for i, member in choice.root_index_to_member.items()
            if member.name in wanted
        }
        self.decoders: dict[int, FastDecoder] = {}

    def build_all(self) -> None:
        """Generate every wanted alternative's decoder now (a few ms each)."""
        for index, name in self.names.items():
            if index not in self.decoders:
                self.decoders[index] = build(self.choice, name, self.checker)

    def __call__(self, data: bytes) -> tuple[Any, int]:
        need = self.ext + self.bits
        size = (need + 7) // 8
        if len(data) < size:
            raise UnsupportedError
        head = int.from_bytes(data[:size], 'big') >> (8 * size - need)
        if head >> self.bits:  # the extension bit: an addition, asn1tools decides
            raise UnsupportedError
        index = head & ((1 << self.bits) - 1)
        decoder = self.decoders.get(index)
        if decoder is None:
            name = self.names.get(index)
            if name is None:
                raise UnsupportedError
            decoder = self.decoders[index] = build(self.choice, name, self.checker)
        return decoder(data)
