"""Bounds-checked access to the tables, vectors and strings of a flatbuffer.

Every read checks that the bytes it touches lie inside the file, so a truncated or corrupted
model raises `RnnedgeError` instead of reading garbage or crashing. This module knows the
flatbuffer wire format (uoffsets, vtables, vectors), not the TFLite schema; it imports only
numpy and rnnedge.errors.
"""

import struct

import numpy as np

from rnnedge.errors import RnnedgeError


class Buf:
    """A read-only flatbuffer: little-endian scalar reads with range checks."""

    def __init__(self, data: bytes, what: str = "model"):
        self.data = memoryview(data).cast("B")
        self.size = len(self.data)
        self.what = what

    def fail(self, message: str):
        """Raise the one-line error every malformed-file check uses."""
        raise RnnedgeError(f"malformed {self.what}: {message}")

    def check(self, pos: int, n: int, what: str):
        """Make sure bytes [pos, pos+n) are inside the buffer."""
        if pos < 0 or n < 0 or pos + n > self.size:
            self.fail(f"{what} at byte {pos} (+{n}) lies outside the {self.size}-byte file "
                      "(truncated or corrupt)")

    def scalar(self, fmt: str, pos: int, what: str = "field"):
        """Read one little-endian scalar (struct format letter) at `pos`."""
        n = struct.calcsize(fmt)
        self.check(pos, n, what)
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def uoffset(self, pos: int, what: str) -> int:
        """Follow the uoffset stored at `pos` and return the absolute position it points to."""
        target = pos + self.scalar("I", pos, what)
        self.check(target, 4, what)
        return target

    def table(self, pos: int, what: str) -> "Table":
        """The table whose start is `pos` (its soffset to the vtable is validated here)."""
        return Table(self, pos, what)


class Table:
    """One flatbuffer table: field lookup through its validated vtable."""

    def __init__(self, buf: Buf, pos: int, what: str):
        self.buf, self.pos, self.what = buf, pos, what
        vtable = pos - buf.scalar("i", pos, f"{what} vtable offset")
        vt_size = buf.scalar("H", vtable, f"{what} vtable")
        if vt_size < 4 or vt_size % 2:
            buf.fail(f"{what} vtable has impossible size {vt_size}")
        buf.check(vtable, vt_size, f"{what} vtable")
        self.inline_size = buf.scalar("H", vtable + 2, f"{what} vtable")
        buf.check(pos, max(self.inline_size, 4), what)
        self.vtable, self.n_fields = vtable, (vt_size - 4) // 2

    def field_pos(self, field: int):
        """Absolute position of field `field`, or None when the field is absent."""
        if field >= self.n_fields:
            return None
        rel = self.buf.scalar("H", self.vtable + 4 + 2 * field, f"{self.what} vtable")
        if rel == 0:
            return None
        if rel >= self.inline_size:
            self.buf.fail(f"{self.what} field {field} lies outside its table")
        return self.pos + rel

    def scalar(self, field: int, fmt: str, default):
        """A scalar field, or `default` when absent."""
        pos = self.field_pos(field)
        if pos is None:
            return default
        return self.buf.scalar(fmt, pos, f"{self.what} field {field}")

    def subtable(self, field: int, what: str):
        """The table referenced by field `field`, or None."""
        pos = self.field_pos(field)
        if pos is None:
            return None
        return self.buf.table(self.buf.uoffset(pos, what), what)

    def target(self, field: int, what: str):
        """Absolute position that offset field `field` points to, or None when absent."""
        pos = self.field_pos(field)
        return None if pos is None else self.buf.uoffset(pos, what)

    def vector(self, field: int, elem_fmt: str, what: str):
        """A vector of scalars as a numpy array (None when absent); `elem_fmt` is a struct
        letter such as 'i', 'q', 'f' or 'B'."""
        start = self.target(field, what)
        if start is None:
            return None
        count = self.buf.scalar("I", start, f"{what} length")
        width = struct.calcsize(elem_fmt)
        self.buf.check(start + 4, count * width, what)
        dtype = np.dtype("<" + elem_fmt)
        return np.frombuffer(self.buf.data, dtype=dtype, count=count, offset=start + 4)

    def vector_span(self, field: int, what: str):
        """(absolute start of the elements, element count) of a vector field, or None."""
        start = self.target(field, what)
        if start is None:
            return None
        count = self.buf.scalar("I", start, f"{what} length")
        return start + 4, count

    def tables(self, field: int, what: str) -> list:
        """A vector of tables, as `Table` objects (empty list when absent)."""
        span = self.vector_span(field, what)
        if span is None:
            return []
        first, count = span
        self.buf.check(first, 4 * count, what)
        return [self.buf.table(self.buf.uoffset(first + 4 * i, f"{what}[{i}]"), f"{what}[{i}]")
                for i in range(count)]

    def string(self, field: int, what: str):
        """A string field decoded as UTF-8 (invalid bytes replaced), or None."""
        start = self.target(field, what)
        if start is None:
            return None
        length = self.buf.scalar("I", start, f"{what} length")
        self.buf.check(start + 4, length, what)
        return bytes(self.buf.data[start + 4:start + 4 + length]).decode("utf-8", "replace")
