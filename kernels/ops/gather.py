"""Index lookups: GATHER (along an axis, with batch_dims), EMBEDDING_LOOKUP (int8 -> int8: a
GATHER of rows, TFLM's EvalSimple) and GATHER_ND, int8 data and int32 indices, constant or computed at run time (the C kernels check every index as TFLM does).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_gather.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import structs
from rnnedge.kernels.ops.base import INT8, Kernel, c_dims, numel, resolve_axis
from rnnedge.kernels.params import MAX_DIMS, row_major_strides

INT32 = np.dtype(np.int32)


class _Lookup(Kernel):
    """Two inputs (int8 data, int32 indices), one int8 output."""

    def __call__(self, x, indices, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        indices = self._buffer(indices, INT32, self.indices_shape, "indices")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x), self._ptr(indices, structs.P_I32), self._ptr(out))
        return out

    @property
    def input_shapes(self):
        """The data and indices shapes (the operand order)."""
        return [self.input_shape, self.indices_shape]


class Gather(_Lookup):
    """GATHER of `input_shape` data by `indices_shape` indices along `axis`, the first
    `batch_dims` dims shared by data and indices (TFLM's gather.cc)."""

    op, entry = "GATHER", "rn_gather"

    def __init__(self, input_shape, indices_shape, axis: int = 0, batch_dims: int = 0, *,
                 lib=None):
        super().__init__(lib)
        shape = tuple(int(d) for d in input_shape)
        ishape = tuple(int(d) for d in indices_shape)
        ax = resolve_axis(axis, len(shape), self.op)
        bd = int(batch_dims) + (len(ishape) if int(batch_dims) < 0 else 0)
        if not 0 <= bd <= min(ax, len(ishape)):
            raise RnnedgeError(f"{self.op}: batch_dims {batch_dims} must lie in [0, "
                               f"{min(ax, len(ishape))}] for axis {ax} and indices {ishape}")
        if shape[:bd] != ishape[:bd]:
            raise RnnedgeError(f"{self.op}: the first {bd} dims of the data {shape} and the "
                               f"indices {ishape} differ")
        self.input_shape, self.indices_shape = shape, ishape
        self.output_shape = shape[:ax] + ishape[bd:] + shape[ax + 1:]
        if len(self.output_shape) > MAX_DIMS:
            raise RnnedgeError(f"{self.op}: the output has rank {len(self.output_shape)} "
                               f"(at most {MAX_DIMS})")
        self.params = structs.GatherParams(
            batch_size=numel(shape[:bd]), outer_size=numel(shape[bd:ax]),
            coord_size=numel(ishape[bd:]), axis_size=shape[ax], inner_size=numel(shape[ax + 1:]))


class EmbeddingLookup(Gather):
    """EMBEDDING_LOOKUP int8 -> int8: rows of `value_shape` (rank >= 2) picked by 1-D int32 ids
    (operands: the table, then the ids)."""

    op = "EMBEDDING_LOOKUP"

    def __init__(self, value_shape, ids_shape, *, lib=None):
        if len(value_shape) < 2 or len(ids_shape) != 1:
            raise RnnedgeError(f"{self.op}: needs a rank >= 2 table and 1-D ids (TFLM), got "
                               f"{tuple(value_shape)} and {tuple(ids_shape)}")
        super().__init__(value_shape, ids_shape, 0, 0, lib=lib)


class GatherNd(_Lookup):
    """GATHER_ND: indices [..., index_depth] address slices of the data (TFLM's gather_nd.cc)."""

    op, entry = "GATHER_ND", "rn_gather_nd"

    def __init__(self, input_shape, indices_shape, *, lib=None):
        super().__init__(lib)
        shape = tuple(int(d) for d in input_shape)
        ishape = tuple(int(d) for d in indices_shape)
        if not ishape or not 1 <= ishape[-1] <= len(shape):
            raise RnnedgeError(f"{self.op}: the indices' last dim ({ishape[-1] if ishape else None})"
                               f" must lie in [1, {len(shape)}] for data {shape}")
        depth = ishape[-1]
        self.input_shape, self.indices_shape = shape, ishape
        self.output_shape = ishape[:-1] + shape[depth:]
        if len(self.output_shape) > MAX_DIMS or len(shape) > MAX_DIMS:
            raise RnnedgeError(f"{self.op}: tensors of rank above {MAX_DIMS} are not supported")
        strides = row_major_strides(shape)[:depth]
        self.params = structs.GatherNdParams(
            num_slices=numel(ishape[:-1]), slice_size=numel(shape[depth:]), index_depth=depth,
            dims=c_dims(list(shape[:depth]) + [0] * (MAX_DIMS - depth)),
            strides=c_dims(strides + [0] * (MAX_DIMS - depth)))
