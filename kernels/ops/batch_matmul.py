"""BATCH_MATMUL, int8: lhs [..., rows, depth] x rhs [..., depth, cols] (adj_x / adj_y
transpose the last two dims of an operand), batch dims broadcast, rescaled as TFLM's
BatchMatMulPrepare derives it (GetQuantizedConvolutionMultipler: the lhs*rhs scale product
in float32).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in
kernels/tests/test_batch_matmul.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import INT8, Kernel, c_dims, check_quant
from rnnedge.kernels.params import MAX_DIMS, Quant, row_major_strides


class BatchMatmul(Kernel):
    """BATCH_MATMUL of int8 `lhs_shape` and `rhs_shape` (ranks 2 to 5, as TFLM)."""

    op, entry = "BATCH_MATMUL", "rn_batch_matmul"

    def __init__(self, lhs_shape, rhs_shape, lhs_q: Quant, rhs_q: Quant, output_q: Quant, *,
                 adj_x=False, adj_y=False, lib=None):
        super().__init__(lib)
        for q, what in ((lhs_q, "lhs"), (rhs_q, "rhs"), (output_q, "output")):
            check_quant(q, what, self.op)
        lhs, rhs = tuple(int(d) for d in lhs_shape), tuple(int(d) for d in rhs_shape)
        if not (2 <= len(lhs) <= 5 and 2 <= len(rhs) <= 5):
            raise RnnedgeError(f"{self.op}: operands of rank {len(lhs)} and {len(rhs)}; TFLM "
                               "takes ranks 2 to 5")
        rank = max(len(lhs), len(rhs))
        el, er = (1,) * (rank - len(lhs)) + lhs, (1,) * (rank - len(rhs)) + rhs
        batch = []
        for a, b in zip(el[:-2], er[:-2]):
            if a != b and 1 not in (a, b):
                raise RnnedgeError(f"{self.op}: batch dims of {lhs} and {rhs} do not broadcast")
            batch.append(b if a == 1 else a)
        rows, depth = (el[-1], el[-2]) if adj_x else (el[-2], el[-1])
        rdepth, cols = (er[-1], er[-2]) if adj_y else (er[-2], er[-1])
        if depth != rdepth:
            raise RnnedgeError(f"{self.op}: lhs {lhs} (adj_x={bool(adj_x)}) and rhs {rhs} "
                               f"(adj_y={bool(adj_y)}) disagree on the inner dim")
        ls, rs = row_major_strides(el)[:-2], row_major_strides(er)[:-2]
        lb = [0 if a == 1 and d != 1 else s for a, d, s in zip(el[:-2], batch, ls)]
        rb = [0 if b == 1 and d != 1 else s for b, d, s in zip(er[:-2], batch, rs)]
        pad = MAX_DIMS - len(batch)
        m, s = params.fc_per_tensor_multiplier(lhs_q.scale, rhs_q.scale, output_q.scale)
        self.input_shapes = [lhs, rhs]
        self.output_shape = tuple(batch) + (rows, cols)
        self.params = structs.BatchMatmulParams(
            batch_dims=c_dims([1] * pad + batch), lhs_batch_strides=c_dims([0] * pad + lb),
            rhs_batch_strides=c_dims([0] * pad + rb), rows=rows, cols=cols, depth=depth,
            lhs_row_stride=1 if adj_x else depth, lhs_depth_stride=rows if adj_x else 1,
            rhs_depth_stride=1 if adj_y else cols, rhs_col_stride=depth if adj_y else 1,
            lhs_offset=-int(lhs_q.zero_point), rhs_offset=-int(rhs_q.zero_point),
            output_offset=int(output_q.zero_point), output_multiplier=m, output_shift=s)

    def __call__(self, lhs, rhs, out=None):
        lhs = self._buffer(lhs, INT8, self.input_shapes[0], "lhs")
        rhs = self._buffer(rhs, INT8, self.input_shapes[1], "rhs")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(lhs), self._ptr(rhs), self._ptr(out))
        return out
