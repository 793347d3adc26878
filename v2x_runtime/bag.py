"""rosbag2 files: recording to MCAP, and reading MCAP or sqlite3 bags that may be damaged.

Recording (through ``recording_mcap``'s lean writer) embeds each topic's message definition
(ros2msg) and offered QoS, so ``ros2 bag``, Foxglove and any MCAP reader open the bags without
the project installed. Reading tolerates a
truncated or corrupt file: it yields every record it can, and reports the first bad one with
the path and the record's position instead of discarding the whole bag.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2.metadata import dump_qos_v9

from v2x_runtime import messages as m
from v2x_runtime.errors import BagError
from v2x_runtime.qos import Durability, QosProfile, Reliability
from v2x_runtime.recording_mcap import McapBagWriter

_ZERO = QosTime(0, 0)
_INFINITE = QosTime(0x7FFFFFFF, 0xFFFFFFFF)


def _rosbag_qos(qos: QosProfile) -> Qos:
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=qos.depth,
        reliability=QosReliability.RELIABLE
        if qos.reliability is Reliability.RELIABLE
        else QosReliability.BEST_EFFORT,
        durability=QosDurability.TRANSIENT_LOCAL
        if qos.durability is Durability.TRANSIENT_LOCAL
        else QosDurability.VOLATILE,
        deadline=_INFINITE,
        lifespan=_INFINITE,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_INFINITE,
        avoid_ros_namespace_conventions=False,
    )


@cache
def _schema(msgtype: str) -> tuple[str, str]:
    """A type's ros2msg text and RIHS01 hash: ~4 ms to make, once per type instead of once per
    connection (225 connections of 20 types in a 100-vehicle run)."""
    return m.msgdef(msgtype), m.typestore().hash_rihs01(msgtype)


# Messages of at least this many bytes keep their bytes (up to this many messages, ~5 s of
# the default run's large ones: ground truth, markers, MAPs, diagnostics; ~1 MB of bytes).
KEEP_MIN_BYTES = 384
KEEP_MESSAGES = 1024


class BagRecorder:
    """Writes messages to a new rosbag2 directory with one MCAP file.

    ``topics=None`` records everything; otherwise only the listed (resolved) topic names.
    """

    def __init__(self, path: str | Path, *, topics: Iterable[str] | None = None) -> None:
        self.path = Path(path)
        self.topics = None if topics is None else set(topics)
        try:
            self._writer: McapBagWriter | None = McapBagWriter(self.path)
        except Exception as err:
            raise BagError(f'{self.path}: cannot create bag: {err}') from err
        self._connections: dict[str, int] = {}
        self._kept: dict[int, tuple[weakref.ref[Any], bytes]] = {}  # id -> message, bytes
        self.count = 0

    def wants(self, topic: str) -> bool:
        return self.topics is None or topic in self.topics

    def write(self, topic: str, msgtype: str, qos: QosProfile, stamp_ns: int, message: Any) -> None:
        if self.wants(topic):
            self.write_message(topic, msgtype, qos, stamp_ns, message)

    def write_message(
        self, topic: str, msgtype: str, qos: QosProfile, stamp_ns: int, message: Any
    ) -> None:
        """``write`` for a topic the caller knows is wanted (the runtime asks once per topic).

        The bytes of a large message are kept with it for a while: an object published
        again (the decoded MAP that the receivers of every car share and re-publish, 360 of
        the 375 MAP recordings of a default 20 s run) is written from them. A published
        message does not change afterwards (its subscribers, and here the other cars, would
        see the change). Only a weak reference is kept: the messages nobody holds any more
        are freed as before (kept alive, 1 024 of them raised a 20 s run's peak by ~24 MB).
        Messages do not hash, so they are found by id, and the reference tells a reused id
        from the message (the one cache of the stack that needs this: the others key on
        objects that hash by identity, or on nothing)."""
        key = id(message)
        kept = self._kept.get(key)
        if kept is not None and kept[0]() is message:
            data = kept[1]
        else:
            data = m.serialize(message)
            if len(data) >= KEEP_MIN_BYTES:
                if len(self._kept) >= KEEP_MESSAGES:
                    self._kept.clear()
                self._kept[key] = (weakref.ref(message), data)
        self.write_raw(topic, msgtype, qos, stamp_ns, data)

    def write_raw(
        self, topic: str, msgtype: str, qos: QosProfile, stamp_ns: int, data: bytes
    ) -> None:
        connection = self._connections.get(topic)
        if self._writer is None:
            raise BagError(f'{self.path}: bag already closed')
        if connection is None:
            msgdef, digest = _schema(msgtype)
            connection = self._writer.add_connection(
                topic,
                msgtype,
                msgdef=msgdef,
                digest=digest,
                qos=dump_qos_v9([_rosbag_qos(qos)]),
            )
            self._connections[topic] = connection
        self._writer.write(connection, stamp_ns, data)
        self.count += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass(frozen=True)
class BagRecord:
    topic: str
    msgtype: str
    stamp_ns: int
    data: bytes


@dataclass
class BagReadReport:
    """What reading a bag found wrong; empty ``errors`` means the whole bag was read."""

    path: Path
    records: int = 0
    errors: list[str] = field(default_factory=list)


def read_bag(path: str | Path, report: BagReadReport | None = None) -> Iterator[BagRecord]:
    """Yield the messages of a rosbag2 directory (or a single .mcap/.db3 file) in file order.

    Damage stops the affected file at the first bad record; the error, with the path and the
    record number, goes into ``report.errors`` and everything before it is still yielded.
    Raises BagError only when nothing at all can be opened.
    """
    path = Path(path)
    report = report if report is not None else BagReadReport(path)
    files = _storage_files(path)
    for file in files:
        if file.suffix == '.mcap':
            yield from _read_mcap(file, report)
        else:
            yield from _read_sqlite(file, report)


def _storage_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise BagError(f'{path}: no such bag')
    meta = path / 'metadata.yaml'
    if meta.exists():
        try:
            info = yaml.safe_load(meta.read_text())['rosbag2_bagfile_information']
            names = [path / rel for rel in info['relative_file_paths']]
            existing = [p for p in names if p.exists()]
            if existing:
                return existing
        except (yaml.YAMLError, KeyError, TypeError):
            pass  # fall back to what is on disk
    files = sorted([*path.glob('*.mcap'), *path.glob('*.db3')])
    if not files:
        raise BagError(f'{path}: no .mcap or .db3 storage file in the bag')
    return files


def _read_mcap(file: Path, report: BagReadReport) -> Iterator[BagRecord]:
    schemas: dict[int, str] = {}
    channels: dict[int, tuple[str, str]] = {}
    index = 0
    try:
        with file.open('rb') as stream:
            for index, record in enumerate(StreamReader(stream, validate_crcs=True).records):
                if isinstance(record, Schema):
                    schemas[record.id] = record.name
                elif isinstance(record, Channel):
                    channels[record.id] = (record.topic, schemas.get(record.schema_id, ''))
                elif isinstance(record, Message):
                    channel = channels.get(record.channel_id)
                    if channel is None:
                        report.errors.append(
                            f'{file}: record {index}: message on unknown channel '
                            f'{record.channel_id}'
                        )
                        continue
                    report.records += 1
                    yield BagRecord(channel[0], channel[1], record.log_time, bytes(record.data))
    except Exception as err:
        report.errors.append(f'{file}: record {index}: unreadable from here on: {err!r}')


def _read_sqlite(file: Path, report: BagReadReport) -> Iterator[BagRecord]:
    try:
        db = sqlite3.connect(f'file:{file}?mode=ro', uri=True)
        topics = {
            tid: (name, msgtype)
            for tid, name, msgtype in db.execute('SELECT id, name, type FROM topics')
        }
        rows = db.execute('SELECT topic_id, timestamp, data FROM messages ORDER BY id')
    except sqlite3.Error as err:
        report.errors.append(f'{file}: cannot open sqlite3 storage: {err}')
        return
    row_number = 0
    try:
        for row_number, (topic_id, stamp, data) in enumerate(rows):
            if topic_id not in topics:
                report.errors.append(f'{file}: row {row_number}: unknown topic id {topic_id}')
                continue
            report.records += 1
            name, msgtype = topics[topic_id]
            yield BagRecord(name, msgtype, int(stamp), bytes(data))
    except sqlite3.Error as err:
        report.errors.append(f'{file}: row {row_number}: unreadable from here on: {err}')
    finally:
        db.close()
