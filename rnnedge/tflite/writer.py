"""Add a metadata entry (e.g. TFLM's OfflineMemoryAllocation plan) to a .tflite file.

Flatbuffer offsets only point forward, so instead of rebuilding the whole file the writer
*prepends* a new root `Model` table to the unchanged original bytes: the new table copies
every field of the old one (offset fields re-pointed at the old objects, now shifted by the
prepended length, a multiple of 16 so every old alignment is kept), with new `buffers` and
`metadata` vectors that list the old entries plus the new buffer and metadata tables. The
old root becomes unreferenced bytes. Buffer data is 16-byte aligned.

`offline_plan_metadata(offsets, n_tensors)` encodes TFLM's format (micro_allocation_info.cc,
docs/memory_management.md): int32 [version 1, subgraph 0, tensor count, offset per tensor],
-1 meaning "plan this tensor online". Imports struct, numpy, rnnedge.errors and this
package's flatbuf/schema/reader modules.
"""

import struct

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.tflite import schema
from rnnedge.tflite.flatbuf import Buf
from rnnedge.tflite.reader import read_model

OFFLINE_PLAN_NAME = "OfflineMemoryAllocation"
_MODEL_SCALARS = {schema.MODEL["version"]}
_MODEL_FIELDS = set(schema.MODEL.values())


def offline_plan_metadata(tensor_offsets: dict, n_tensors: int) -> bytes:
    """The OfflineMemoryAllocation buffer for `n_tensors` tensors (all subgraphs together);
    `tensor_offsets` maps tensor index -> arena offset, other tensors get -1."""
    values = np.full(3 + n_tensors, -1, dtype="<i4")
    values[0], values[1], values[2] = 1, 0, n_tensors
    for t, offset in tensor_offsets.items():
        values[3 + t] = offset
    return values.tobytes()


class _Out:
    """A growing byte array with 4-byte alignment helpers and forward-offset patching."""

    def __init__(self):
        self.b = bytearray()

    def pad(self, alignment: int, phase: int = 0):
        while len(self.b) % alignment != phase:
            self.b.append(0)

    def u32(self, value: int) -> int:
        pos = len(self.b)
        self.b += struct.pack("<I", value)
        return pos

    def table(self, fields: list) -> tuple:
        """Write a vtable then a table of 4-byte fields [(field id, raw 4 bytes or None)];
        returns (table position, {field id: field position})."""
        n = max(fid for fid, _ in fields) + 1
        self.pad(2)
        vtable = len(self.b)
        slots = {fid: 4 + 4 * k for k, (fid, _) in enumerate(fields)}
        self.b += struct.pack("<HH", 4 + 2 * n, 4 + 4 * len(fields))
        for fid in range(n):
            self.b += struct.pack("<H", slots.get(fid, 0))
        self.pad(4)
        pos = len(self.b)
        self.b += struct.pack("<i", pos - vtable)
        positions = {}
        for fid, raw in fields:
            positions[fid] = len(self.b)
            self.b += raw or b"\0\0\0\0"
        return pos, positions

    def point(self, at: int, target: int):
        """Store at `at` the uoffset to absolute position `target` (must be forward)."""
        struct.pack_into("<I", self.b, at, target - at)


def add_metadata(raw: bytes, name: str, data: bytes) -> bytes:
    """The model `raw` with metadata `name` set to `data` (an existing entry of that name is
    replaced). The result is validated by reading it back."""
    read_model(raw)  # validate the input first
    buf = Buf(raw)
    root = buf.table(buf.uoffset(0, "root table"), "Model")
    present = [f for f in range(root.n_fields) if root.field_pos(f) is not None]
    unknown = set(present) - _MODEL_FIELDS
    if unknown:
        raise RnnedgeError(f"model uses Model fields {sorted(unknown)} unknown to rnnedge; "
                           "cannot add metadata safely")
    old_buffers = _vector_targets(root, schema.MODEL["buffers"])
    old_meta = [t.pos for t in root.tables(schema.MODEL["metadata"], "metadata")
                if t.string(schema.METADATA["name"], "metadata name") != name]
    out = _Out()
    out.u32(0)
    out.b += schema.FILE_IDENTIFIER
    fields = sorted(set(present) | {schema.MODEL["buffers"], schema.MODEL["metadata"]})
    model_pos, slots = out.table([(f, struct.pack("<I", root.scalar(f, "I", 0))
                                   if f in _MODEL_SCALARS else None) for f in fields])
    out.point(0, model_pos)
    buffers_vec = out.u32(len(old_buffers) + 1)
    buffer_slots = [out.u32(0) for _ in range(len(old_buffers) + 1)]
    meta_vec = out.u32(len(old_meta) + 1)
    meta_slots = [out.u32(0) for _ in range(len(old_meta) + 1)]
    buffer_pos, buffer_fields = out.table([(schema.BUFFER["data"], None)])
    meta_pos, meta_fields = out.table([(schema.METADATA["name"], None),
                                       (schema.METADATA["buffer"], struct.pack("<I", len(old_buffers)))])
    name_pos = out.u32(len(name.encode()))
    out.b += name.encode() + b"\0"
    out.pad(16, 12)
    data_pos = out.u32(len(data))
    out.b += data
    out.pad(16)
    shift = len(out.b)
    out.point(slots[schema.MODEL["buffers"]], buffers_vec)
    out.point(slots[schema.MODEL["metadata"]], meta_vec)
    for f in fields:
        if f not in _MODEL_SCALARS and f not in (schema.MODEL["buffers"], schema.MODEL["metadata"]):
            out.point(slots[f], root.target(f, f"Model field {f}") + shift)
    for slot, target in zip(buffer_slots, old_buffers):
        out.point(slot, target + shift)
    out.point(buffer_slots[-1], buffer_pos)
    for slot, target in zip(meta_slots, old_meta):
        out.point(slot, target + shift)
    out.point(meta_slots[-1], meta_pos)
    out.point(buffer_fields[schema.BUFFER["data"]], data_pos)
    out.point(meta_fields[schema.METADATA["name"]], name_pos)
    result = bytes(out.b) + bytes(raw)
    read_model(result)
    return result


def _vector_targets(table, field: int) -> list:
    span = table.vector_span(field, "vector")
    if span is None:
        return []
    first, count = span
    return [table.buf.uoffset(first + 4 * i, "vector element") for i in range(count)]


def write_offline_plan(raw: bytes, tensor_offsets: dict) -> bytes:
    """The model `raw` with `tensor_offsets` (subgraph-0 tensor index -> arena offset) embedded
    as TFLM's OfflineMemoryAllocation metadata."""
    model = read_model(raw)
    n_tensors = sum(len(sg.tensors) for sg in model.subgraphs)
    return add_metadata(raw, OFFLINE_PLAN_NAME, offline_plan_metadata(tensor_offsets, n_tensors))
