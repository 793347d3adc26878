"""Loading DBC files robustly: our own strictly, foreign ones despite their real-world quirks.

Real DBCs (exported by tools, edited by hand) carry CRLF line ends, UTF-8 or Latin-1 comments,
value tables for signals that do not exist (an orphan ``VAL_`` makes strict cantools refuse the
whole file) and Vector's ``VECTOR__INDEPENDENT_SIG_MSG`` pseudo message. ``load_dbc`` reports
each as a quirk and loads what it can: strict first, then without orphan ``VAL_`` lines, then
with ``strict=False``. Only a file that still does not parse raises ``DbcError``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import cantools
from cantools.database.can import Database

from vehicle_nodes.bywire.errors import DbcError

PSEUDO_MESSAGE = 'VECTOR__INDEPENDENT_SIG_MSG'
_BO_RE = re.compile(r'^\s*BO_\s+(\d+)\s+(\w+)\s*:')
_SG_RE = re.compile(r'^\s*SG_\s+(\w+)')
_VAL_RE = re.compile(r'^\s*VAL_\s+(\d+)\s+(\w+)\s')


@dataclass(frozen=True)
class LoadedDbc:
    """A parsed database, where it came from, and what was odd about it."""

    db: Database
    source: str
    quirks: tuple[str, ...]
    strict: bool  # True when cantools' strict checks (overlaps, ranges) passed


def load_dbc(path: str | Path) -> LoadedDbc:
    """Read and parse a DBC file; raises DbcError naming the file when it cannot be used.

    Parsed databases are shared (components of one process load the same file; nothing here
    mutates a database): the cache key is the path with the file's size and modification time.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as err:
        raise DbcError(f'{path}: cannot read DBC ({err.strerror})') from None
    return _load_cached(str(path.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, size: int, mtime_ns: int) -> LoadedDbc:
    del size, mtime_ns  # part of the cache key only
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise DbcError(f'{path}: cannot read DBC ({err.strerror})') from None
    return parse_dbc_bytes(raw, source=path)


def parse_dbc_bytes(raw: bytes, *, source: str = '<bytes>') -> LoadedDbc:
    quirks: list[str] = []
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        text = raw.decode('latin-1')
        quirks.append('not UTF-8: decoded as Latin-1')
    if '\r\n' in text:
        quirks.append('CRLF line ends')
    non_ascii = sum(1 for line in text.splitlines() if not line.isascii())
    if non_ascii:
        quirks.append(f'{non_ascii} lines with non-ASCII text (comments or value names)')
    if PSEUDO_MESSAGE in text:
        quirks.append(f'pseudo message {PSEUDO_MESSAGE} present')
    text = text.replace('\r\n', '\n')

    db, error = _try_load(text, strict=True)
    if db is not None:
        return LoadedDbc(db, source, tuple(quirks), strict=True)
    cleaned, dropped = drop_orphan_values(text)
    if dropped:
        quirks.append(f'{len(dropped)} orphan VAL_ entries dropped: {", ".join(dropped)}')
        db, error = _try_load(cleaned, strict=True)
        if db is not None:
            return LoadedDbc(db, source, tuple(quirks), strict=True)
    db, error_loose = _try_load(cleaned, strict=False)
    if db is not None:
        quirks.append(f'fails strict checks, loaded with strict=False: {error}')
        return LoadedDbc(db, source, tuple(quirks), strict=False)
    raise DbcError(f'{source}: not a usable DBC file: {error_loose}')


def _try_load(text: str, *, strict: bool) -> tuple[Database | None, str]:
    try:
        db = cantools.database.load_string(text, database_format='dbc', strict=strict)
    except Exception as err:  # cantools raises several unrelated types for bad input
        return None, ' '.join(str(err).split())
    assert isinstance(db, Database)
    return db, ''


def drop_orphan_values(text: str) -> tuple[str, list[str]]:
    """Remove ``VAL_`` lines whose message or signal cantools will not have; say which."""
    signals: dict[int, set[str]] = {}
    current: set[str] | None = None
    for line in text.split('\n'):
        bo = _BO_RE.match(line)
        if bo:
            # cantools drops the pseudo message, so value tables on it are orphans too
            pseudo = bo.group(2) == PSEUDO_MESSAGE
            current = set() if pseudo else signals.setdefault(int(bo.group(1)), set())
            continue
        sg = _SG_RE.match(line)
        if sg and current is not None:
            current.add(sg.group(1))
        elif line.strip() == '':
            current = None
    kept, dropped = [], []
    for line in text.split('\n'):
        val = _VAL_RE.match(line)
        if val:
            frame_id, name = int(val.group(1)), val.group(2)
            defined = signals.get(frame_id)
            if defined is None or name not in defined:
                dropped.append(f'VAL_ {frame_id} {name}')
                continue
        kept.append(line)
    return '\n'.join(kept), dropped
