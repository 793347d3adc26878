"""A lean rosbag2 MCAP writer: the layout rosbags' writer produces, at a fraction of its cost.

The embedded runtime records every message of a run. rosbags' ``Writer`` costs ~9 µs per
message (a ``BytesIO`` and six small writes per record), dumps each new connection's QoS with
ruamel.yaml (~3 ms each, 116 connections in the default scenario) and the metadata with it
again at close (~0.6 s). Here a message record is one ``struct.pack`` plus the payload, the
QoS text is made once per distinct profile and the YAML goes through PyYAML's C emitter.

The file is what ``ros2 bag`` (rosbag2_storage_mcap), rosbags' reader, Foxglove and the
``mcap`` readers open: profile ``ros2``, schemas ``ros2msg`` with the RIHS01 hash,
``cdr`` channels with ``offered_qos_profiles`` metadata, chunked messages with their message
indexes, the ``rosbag2`` metadata record, a summary section with statistics and offsets, and
``metadata.yaml`` (rosbag2 version 9) beside it.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAGIC = b'\x89MCAP0\r\n'
CHUNK_BYTES = 1 << 20  # as rosbags: a chunk is closed past 1 MiB
# the chunks' parts (~29k, ~7 MB in a 20 s default run) go through the file's buffer: 128 KiB
# instead of 8 makes writing them ~12 ms of CPU instead of ~16 (fewer write calls)
_DUMPER = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
_MESSAGE = struct.Struct('<BQHIQQ')  # opcode, length, channel, sequence, log and publish time
_MESSAGE_SIZE = _MESSAGE.size
_U16 = struct.Struct('<H')
_U32 = struct.Struct('<I')
_U64 = struct.Struct('<Q')


def _string(text: str) -> bytes:
    data = text.encode()
    return _U32.pack(len(data)) + data


def _record(op: int, payload: bytes) -> bytes:
    return struct.pack('<BQ', op, len(payload)) + payload


def dump_yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_DUMPER, default_flow_style=False, sort_keys=False)


@dataclass
class _Connection:
    id: int
    topic: str
    msgtype: str
    qos: list[dict[str, Any]]
    digest: str
    count: int = 0


@dataclass
class _Chunk:
    """The records of the open chunk, as a list of parts: growing one bytearray costs a
    reallocation (and page faults) per append here, ~30 µs for a 10 kB message. The index
    (per channel: log time, offset, ...) is all a message adds besides its parts; the chunk's
    time range and the channels' counts come from it when the chunk is closed."""

    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    index: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, record: bytes) -> None:
        self.parts.append(record)
        self.size += len(record)


class McapBagWriter:
    """Writes one rosbag2 directory: ``<dir>/<dir name>.mcap`` and ``metadata.yaml``.

    ``add_connection`` then ``write`` (CDR bytes) any number of times, then ``close``; a
    ``close`` after an interruption still writes a complete, indexed file.
    """

    def __init__(self, path: str | Path, *, library: str = 'v2x_runtime') -> None:
        self.path = Path(path)
        self.path.mkdir(mode=0o755, parents=True, exist_ok=False)
        self.file_path = self.path / f'{self.path.name}.mcap'
        self._out = self.file_path.open('xb', buffering=CHUNK_BYTES // 8)
        self._out.write(MAGIC + _record(0x01, _string('ros2') + _string(library)))
        self._schemas: dict[str, int] = {}
        self._schema_records: list[bytes] = []
        self._channel_records: list[bytes] = []
        self.connections: list[_Connection] = []
        self._chunk = _Chunk()
        self._chunk_indexes: list[bytes] = []
        self._qos_text: dict[str, str] = {}
        self.start_ns = 2**63 - 1
        self.end_ns = 0
        self.closed = False

    def add_connection(
        self, topic: str, msgtype: str, *, msgdef: str, digest: str, qos: list[dict[str, Any]]
    ) -> int:
        """A channel for ``topic`` (schema ``msgtype`` with its ros2msg text); returns its id."""
        schema_id = self._schemas.get(msgtype)
        chunk = self._chunk
        if schema_id is None:
            schema_id = self._schemas[msgtype] = len(self._schemas) + 1
            record = _record(
                0x03,
                _U16.pack(schema_id) + _string(msgtype) + _string('ros2msg') + _string(msgdef),
            )
            self._schema_records.append(record)
            chunk.add(record)
        key = repr(qos)
        text = self._qos_text.get(key)
        if text is None:
            text = self._qos_text[key] = dump_yaml(qos).strip()
        connection = _Connection(len(self.connections) + 1, topic, msgtype, qos, digest)
        metadata = _string('offered_qos_profiles') + _string(text)
        record = _record(
            0x04,
            _U16.pack(connection.id)
            + _U16.pack(schema_id)
            + _string(topic)
            + _string('cdr')
            + _U32.pack(len(metadata))
            + metadata,
        )
        self._channel_records.append(record)
        chunk.add(record)
        self.connections.append(connection)
        return connection.id

    def write(self, connection_id: int, stamp_ns: int, data: bytes) -> None:
        chunk = self._chunk  # hot: every recorded message; the rest is done per chunk
        size = chunk.size
        chunk.index[connection_id] += (stamp_ns, size)
        parts = chunk.parts
        parts.append(_MESSAGE.pack(0x05, 22 + len(data), connection_id, 0, stamp_ns, stamp_ns))
        parts.append(data)
        size += _MESSAGE_SIZE + len(data)
        chunk.size = size
        if size > CHUNK_BYTES:
            self._close_chunk()

    def _open_counts(self) -> None:
        """Fold the open chunk's messages into the channels' counts (once per chunk)."""
        for cid, entries in self._chunk.index.items():
            self.connections[cid - 1].count += len(entries) // 2

    def _close_chunk(self) -> None:
        chunk, out = self._chunk, self._out
        if chunk.index:
            start = min(min(entries[::2]) for entries in chunk.index.values())
            end = max(max(entries[::2]) for entries in chunk.index.values())
        else:
            start, end = 0, 0
        self._open_counts()
        size = chunk.size
        head = (
            struct.pack('<QQQI', start, end, size, 0) + _string('') + _U64.pack(size)
        )  # start, end, uncompressed size and CRC (none), no compression, records' length
        chunk_start = out.tell()
        # the parts go to the file one by one: joining them first would allocate (and fault
        # in) a fresh megabyte or two per chunk, ~13 ms a chunk on this kind of machine
        out.write(struct.pack('<BQ', 0x06, len(head) + size) + head)
        out.writelines(chunk.parts)
        chunk_end = out.tell()
        offsets = []
        for cid, entries in chunk.index.items():
            offsets.append(struct.pack('<HQ', cid, out.tell()))
            out.write(
                _record(
                    0x07,
                    _U16.pack(cid)
                    + _U32.pack(len(entries) * 8)
                    + struct.pack(f'<{len(entries)}Q', *entries),
                )
            )
        offsets_bytes = b''.join(offsets)
        self._chunk_indexes.append(
            _record(
                0x08,
                struct.pack('<QQQQ', start, end, chunk_start, chunk_end - chunk_start)
                + _U32.pack(len(offsets_bytes))
                + offsets_bytes
                + _U64.pack(out.tell() - chunk_end)
                + _string('')
                + _U64.pack(size)
                + _U64.pack(size),
            )
        )
        if chunk.index:
            self.start_ns = min(self.start_ns, start)
            self.end_ns = max(self.end_ns, end)
        self._chunk = _Chunk()

    def metadata(self) -> dict[str, Any]:
        """``rosbag2_bagfile_information`` (version 9) as rosbag2 writes it: counts and times
        of the closed chunks (all of them after ``close``)."""
        count = sum(c.count for c in self.connections)
        start = self.start_ns if count else 0
        duration = max(0, self.end_ns - start) if count else 0
        name = self.file_path.name
        return {
            'version': 9,
            'storage_identifier': 'mcap',
            'relative_file_paths': [name],
            'duration': {'nanoseconds': duration},
            'starting_time': {'nanoseconds_since_epoch': start},
            'message_count': count,
            'topics_with_message_count': [
                {
                    'topic_metadata': {
                        'name': c.topic,
                        'type': c.msgtype,
                        'serialization_format': 'cdr',
                        'offered_qos_profiles': c.qos,
                        'type_description_hash': c.digest,
                    },
                    'message_count': c.count,
                }
                for c in self.connections
            ],
            'compression_format': '',
            'compression_mode': '',
            'files': [
                {
                    'path': name,
                    'starting_time': {'nanoseconds_since_epoch': start},
                    'duration': {'nanoseconds': duration},
                    'message_count': count,
                }
            ],
            'custom_data': None,
            'ros_distro': 'jazzy',
        }

    def close(self) -> None:
        """Write the last chunk, the summary section and metadata.yaml."""
        if self.closed:
            return
        self.closed = True
        if self._chunk.parts:
            self._close_chunk()
        info = self.metadata()
        inner = dump_yaml(info)  # ~0.1 s for 225 topics: made once, nested for metadata.yaml
        lines = inner.splitlines(keepends=True)
        if all(line.strip() for line in lines):  # PyYAML nests a block mapping by 2 spaces
            text = 'rosbag2_bagfile_information:\n' + ''.join('  ' + line for line in lines)
        else:
            text = dump_yaml({'rosbag2_bagfile_information': info})
        out = self._out
        metadata_start = out.tell()
        serialized = _string('serialized_metadata') + _string(inner.strip())
        out.write(_record(0x0C, _string('rosbag2') + _U32.pack(len(serialized)) + serialized))
        metadata_end = out.tell()
        out.write(_record(0x0F, _U32.pack(0)))  # data end, no CRC
        schema_start = out.tell()
        out.write(b''.join(self._schema_records))
        channel_start = out.tell()
        out.write(b''.join(self._channel_records))
        chunk_index_start = out.tell()
        out.write(b''.join(self._chunk_indexes))
        metadata_index_start = out.tell()
        out.write(
            _record(
                0x0D,
                struct.pack('<QQ', metadata_start, metadata_end - metadata_start)
                + _string('rosbag2'),
            )
        )
        statistics_start = out.tell()
        counts = b''.join(struct.pack('<HQ', c.id, c.count) for c in self.connections)
        out.write(
            _record(
                0x0B,
                struct.pack(
                    '<QHIIIIQQI',
                    info['message_count'],
                    len(self._schema_records),
                    len(self._channel_records),
                    0,  # attachments
                    1,  # metadata
                    len(self._chunk_indexes),
                    self.start_ns if info['message_count'] else 0,
                    self.end_ns,
                    len(counts),
                )
                + counts,
            )
        )
        summary_offsets_start = out.tell()
        groups = (
            (0x03, schema_start, channel_start),
            (0x04, channel_start, chunk_index_start),
            (0x08, chunk_index_start, metadata_index_start),
            (0x0D, metadata_index_start, statistics_start),
            (0x0B, statistics_start, summary_offsets_start),
        )
        for op, begin, end in groups:
            if end > begin:
                out.write(_record(0x0E, struct.pack('<BQQ', op, begin, end - begin)))
        out.write(_record(0x02, struct.pack('<QQI', schema_start, summary_offsets_start, 0)))
        out.write(MAGIC)
        out.close()
        tmp = self.path / 'metadata.yaml.tmp'
        tmp.write_text(text, encoding='utf-8')
        tmp.replace(self.path / 'metadata.yaml')
