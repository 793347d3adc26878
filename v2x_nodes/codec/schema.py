"""The compiled T/CSAE 53 / 157 schema: parsed once, cached on disk, compiled per process.

Parsing the ``.asn`` modules is the slow step (~0.5 s); the parse tree is pickled under the
user cache directory, keyed by the hash of the module files and the asn1tools version, so a
CLI call after the first one compiles from the cache in a few tens of milliseconds.
``V2X_CODEC_CACHE_DIR`` overrides the directory (tests point it at a temporary folder).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import asn1tools

from v2x_nodes.codec.errors import SchemaError

_LOG = logging.getLogger(__name__)

ASN_DIR = Path(__file__).resolve().parent / 'asn'
FRAME_MODULE = 'CSAE-MsgFrame'
EXT_TYPE = 'MessageFrameExt'
# Deep SEQUENCE OF nesting in MapData needs more than Python's default recursion limit when
# the parse tree is pickled and compiled.
_RECURSION_LIMIT = 10_000


@dataclass(frozen=True)
class Schema:
    """Both codecs of the message set.

    ``uper`` encodes and decodes the air-interface bytes; ``jer`` reads and writes the JSON
    encoding rules, with the frame extension's open type written as the uppercase hex of its
    inner UPER (asn1tools' JER cannot express an open type).
    """

    uper: Any
    jer: Any
    digest: str
    tree: dict[str, Any]

    def type_names(self) -> list[str]:
        return sorted(self.uper.types)


def asn_files() -> list[Path]:
    files = sorted(ASN_DIR.glob('*.asn'))
    if not files:
        raise SchemaError(f'no ASN.1 modules found in {ASN_DIR}')
    return files


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256(asn1tools.__version__.encode())
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    override = os.environ.get('V2X_CODEC_CACHE_DIR')
    if override:
        return Path(override)
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base) / 'v2x_stack' / 'codec'


def _load_parse_tree(files: list[Path], digest: str) -> dict[str, Any]:
    path = cache_dir() / f'csae-{digest}.pickle'
    try:
        with path.open('rb') as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        pass
    except Exception as err:  # a damaged cache is rebuilt, never fatal
        _LOG.warning('ignoring unreadable schema cache %s: %s', path, err)
    try:
        tree = asn1tools.parse_files([str(f) for f in files])
    except Exception as err:
        raise SchemaError(f'cannot parse ASN.1 modules in {ASN_DIR}: {err}') from err
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile('wb', dir=path.parent, delete=False) as tmp:
            pickle.dump(tree, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, path)
    except OSError as err:  # read-only home: work without the cache
        _LOG.warning('cannot write schema cache %s: %s', path, err)
    return tree


def _jer_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """The parse tree with the open type replaced by OCTET STRING (hex in JER)."""
    jer = copy.deepcopy(tree)
    members = jer[FRAME_MODULE]['types'][EXT_TYPE]['members']
    for i, member in enumerate(members):
        if member is not None and member['name'] == 'value':
            members[i] = {'name': 'value', 'type': 'OCTET STRING'}
    return jer


@cache
def load_schema() -> Schema:
    """The process-wide schema (compiled on first use)."""
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    files = asn_files()
    digest = _digest(files)
    tree = _load_parse_tree(files, digest)
    try:
        uper = asn1tools.compile_dict(copy.deepcopy(tree), 'uper')
        jer = asn1tools.compile_dict(_jer_tree(tree), 'jer')
    except Exception as err:
        raise SchemaError(f'cannot compile ASN.1 modules in {ASN_DIR}: {err}') from err
    return Schema(uper=uper, jer=jer, digest=digest, tree=tree)


def _type_descriptor(type_name: str) -> dict[str, Any]:
    for module in load_schema().tree.values():
        if type_name in module['types']:
            return module['types'][type_name]
    raise SchemaError(f'type {type_name} is not in the message set')


@cache
def enum_names(type_name: str) -> tuple[str, ...]:
    """Names of an ENUMERATED type indexed by their number ('' for unused numbers)."""
    values = [v for v in _type_descriptor(type_name)['values'] if v is not None]
    names = [''] * (max(number for _, number in values) + 1)
    for name, number in values:
        names[number] = name
    return tuple(names)


@cache
def enum_index(type_name: str) -> dict[str, int]:
    """Number of each name of an ENUMERATED type."""
    return {name: i for i, name in enumerate(enum_names(type_name)) if name}


@cache
def bit_names(type_name: str) -> tuple[str, ...]:
    """Named bits of a BIT STRING type, indexed by bit number."""
    bits = _type_descriptor(type_name)['named-bits']
    names = [''] * (max(int(n) for _, n in bits) + 1)
    for name, number in bits:
        names[int(number)] = name
    return tuple(names)
