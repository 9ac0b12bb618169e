"""The byte-moving kernels: PAD / PADV2, CONCATENATION, SPLIT / SPLIT_V, STRIDED_SLICE,
SLICE, RESHAPE (SQUEEZE, EXPAND_DIMS) and TRANSPOSE.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_shape_ops.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, INT8, numel, c_dims, resolve_axis


class Pad(SingleIO):
    """PAD / PADV2: `paddings` is [[before, after], ...]; `pad_value` is the int8
    fill (the output zero point for PAD)."""

    op, entry = "PAD", "rn_pad"

    def __init__(self, input_shape, paddings, pad_value: int, *, lib=None):
        Kernel.__init__(self, lib)
        pads = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)
        if pads.shape[0] != len(input_shape) or np.any(pads < 0):
            raise RnnedgeError(f"{self.op}: paddings {pads.tolist()} do not fit input "
                               f"{tuple(input_shape)}")
        if not -128 <= int(pad_value) <= 127:
            raise RnnedgeError(f"{self.op}: pad value {pad_value} is outside int8")
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(int(d + b + a) for d, (b, a) in zip(self.input_shape, pads))
        self.params = structs.PadParams(input_dims=c_dims(params.pad_shape(self.input_shape)),
                                  pad_before=c_dims(params.pad_shape(pads[:, 0].tolist(), 0)),
                                  output_dims=c_dims(params.pad_shape(self.output_shape)),
                                  pad_value=int(pad_value))


class Concatenation(Kernel):
    """CONCATENATION along `axis` (int8 inputs share the output quantisation)."""

    op, entry = "CONCATENATION", "rn_concatenation"

    def __init__(self, input_shapes, axis: int, *, lib=None):
        super().__init__(lib)
        shapes = [tuple(int(d) for d in s) for s in input_shapes]
        if not shapes:
            raise RnnedgeError(f"{self.op}: needs at least one input")
        rank = len(shapes[0])
        ax = resolve_axis(axis, rank, self.op)
        for s in shapes:
            if len(s) != rank or s[:ax] != shapes[0][:ax] or s[ax + 1:] != shapes[0][ax + 1:]:
                raise RnnedgeError(f"{self.op}: input shapes {shapes} differ off axis {ax}")
        inner = numel(shapes[0][ax + 1:])
        self.input_shapes = shapes
        self.output_shape = shapes[0][:ax] + (sum(s[ax] for s in shapes),) + shapes[0][ax + 1:]
        sizes = self._const([s[ax] * inner for s in shapes], np.int32)
        self.params = structs.ConcatenationParams(num_inputs=len(shapes),
                                            outer_size=numel(shapes[0][:ax]),
                                            copy_sizes=sizes.ctypes.data_as(structs.P_I32))

    def __call__(self, inputs, out=None):
        if len(inputs) != len(self.input_shapes):
            raise RnnedgeError(f"{self.op}: expected {len(self.input_shapes)} inputs")
        xs = [self._buffer(x, INT8, s, f"input {i}")
              for i, (x, s) in enumerate(zip(inputs, self.input_shapes))]
        out = self._output(out, INT8, self.output_shape)
        ptrs = (structs.P_I8 * len(xs))(*[self._ptr(x) for x in xs])
        self._run(ptrs, self._ptr(out))
        return out


class Split(Kernel):
    """SPLIT / SPLIT_V along `axis` into pieces of `sizes` (a count for SPLIT)."""

    op, entry = "SPLIT", "rn_split"

    def __init__(self, input_shape, axis: int, sizes, *, lib=None):
        super().__init__(lib)
        shape = tuple(int(d) for d in input_shape)
        ax = resolve_axis(axis, len(shape), self.op)
        if np.isscalar(sizes):
            n = int(sizes)
            if n <= 0 or shape[ax] % n:
                raise RnnedgeError(f"{self.op}: cannot split {shape[ax]} into {n} equal parts")
            sizes = [shape[ax] // n] * n
        sizes = [int(s) for s in sizes]
        if any(s < 0 for s in sizes) or sum(sizes) != shape[ax]:
            raise RnnedgeError(f"{self.op}: sizes {sizes} do not sum to {shape[ax]}")
        inner = numel(shape[ax + 1:])
        self.input_shape = shape
        self.output_shapes = [shape[:ax] + (s,) + shape[ax + 1:] for s in sizes]
        copy = self._const([s * inner for s in sizes], np.int32)
        self.params = structs.SplitParams(num_outputs=len(sizes), outer_size=numel(shape[:ax]),
                                    copy_sizes=copy.ctypes.data_as(structs.P_I32))

    def __call__(self, x, outs=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        outs = [None] * len(self.output_shapes) if outs is None else list(outs)
        if len(outs) != len(self.output_shapes):
            raise RnnedgeError(f"{self.op}: expected {len(self.output_shapes)} outputs")
        outs = [self._output(o, INT8, s) for o, s in zip(outs, self.output_shapes)]
        ptrs = (structs.P_I8 * len(outs))(*[self._ptr(o) for o in outs])
        self._run(self._ptr(x), ptrs)
        return outs


class StridedSlice(SingleIO):
    """STRIDED_SLICE with TFLM's begin/end/shrink mask semantics."""

    op, entry = "STRIDED_SLICE", "rn_strided_slice"

    def __init__(self, input_shape, begin, end, strides, *, begin_mask=0, end_mask=0,
                 shrink_axis_mask=0, ellipsis_mask=0, new_axis_mask=0, offset=False,
                 lib=None):
        Kernel.__init__(self, lib)
        if ellipsis_mask or new_axis_mask:
            raise RnnedgeError(f"{self.op}: ellipsis and new-axis masks are not supported "
                               "(TFLM does not support them either)")
        try:
            r = params.strided_slice(input_shape, begin, end, strides, begin_mask, end_mask,
                                shrink_axis_mask, offset)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        rank = len(input_shape)
        outs = r["output_dims"][params.MAX_DIMS - rank:]
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(d for i, d in enumerate(outs)
                                  if not shrink_axis_mask & (1 << i))
        self.params = structs.StridedSliceParams(
            input_dims=c_dims(r["input_dims"]), begin=c_dims(r["begin"]),
            stride=c_dims(r["stride"]), output_dims=c_dims(r["output_dims"]))


class Slice(SingleIO):
    """SLICE: `size` entries of -1 mean "to the end"."""

    op, entry = "SLICE", "rn_slice"

    def __init__(self, input_shape, begin, size, *, lib=None):
        Kernel.__init__(self, lib)
        shape = tuple(int(d) for d in input_shape)
        begin = [int(b) for b in begin]
        size = [d - b if int(s) == -1 else int(s) for d, b, s in zip(shape, begin, size)]
        if len(begin) != len(shape) or len(size) != len(shape) or any(
                b < 0 or s < 0 or b + s > d for b, s, d in zip(begin, size, shape)):
            raise RnnedgeError(f"{self.op}: begin {begin} / size {size} do not fit {shape}")
        self.input_shape, self.output_shape = shape, tuple(size)
        self.params = structs.SliceParams(input_dims=c_dims(params.pad_shape(shape)),
                                    begin=c_dims(params.pad_shape(begin, 0)),
                                    size=c_dims(params.pad_shape(size)))


class Reshape(SingleIO):
    """RESHAPE / SQUEEZE / EXPAND_DIMS: same bytes, new shape (in place allowed)."""

    op, entry = "RESHAPE", "rn_reshape"

    def __init__(self, input_shape, output_shape, *, lib=None):
        Kernel.__init__(self, lib)
        if numel(input_shape) != numel(output_shape):
            raise RnnedgeError(f"{self.op}: cannot reshape {tuple(input_shape)} to "
                               f"{tuple(output_shape)}")
        self.input_shape, self.output_shape = tuple(input_shape), tuple(output_shape)
        self.params = structs.ReshapeParams(size=numel(input_shape))


class Transpose(SingleIO):
    """TRANSPOSE by `perm`."""

    op, entry = "TRANSPOSE", "rn_transpose"

    def __init__(self, input_shape, perm, *, lib=None):
        Kernel.__init__(self, lib)
        shape = tuple(int(d) for d in input_shape)
        perm = [int(p) for p in perm]
        if sorted(perm) != list(range(len(shape))):
            raise RnnedgeError(f"{self.op}: perm {perm} is not a permutation of {len(shape)} dims")
        pad = params.MAX_DIMS - len(shape)
        self.input_shape = shape
        self.output_shape = tuple(shape[p] for p in perm)
        self.params = structs.TransposeParams(input_dims=c_dims(params.pad_shape(shape)),
                                        perm=c_dims(list(range(pad)) + [p + pad for p in perm]))
