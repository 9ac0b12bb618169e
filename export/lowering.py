"""Lower rnnedge's ONNX op subset (NCHW, float) to an NHWC graph of TFLite builtins.

Why: instead of a generic ONNX->TF translator, this module maps exactly the ops rnnedge's
static layers and zoo models emit onto TFLite builtins that TFLM and Ethos-U support, in NHWC:
4-D tensors are held NHWC end to end, axes of Split/Concat/Slice/Transpose are remapped, conv
weights are transposed once here, and the only TRANSPOSE ops are the graph's own (the H<->W
swap of a weight-shared bidirectional row pass). Every ONNX initializer becomes ONE
constant tensor, so a weight shared by many nodes (the recurrent W_hh used by every time step)
is stored once. BatchNorm is folded into the preceding Conv, ReLU/ReLU6 fused into their
producer where TFLite allows, and a Concat of more than 10 inputs is built as a tree (TFLM's
CONCATENATION takes at most 10). An op outside the table raises a one-line RnnedgeError.
Shape arithmetic is folded first (Constant, Shape/Size of statically shaped tensors, and any
node whose inputs are all constants, re-inferring shapes until nothing more folds), so a
Reshape driven by `x.shape` lowers like one with a constant target.

Layout rule: an ONNX tensor of rank 4 (N, C, H, W) is held as (N, H, W, C); other ranks as
they are. Activation tensors keep their ONNX names, so calibration ranges (collected on the
ONNX graph) map onto them; tensors this module adds are named `<onnx name>/<role>` and always
belong to a same-scale group (see quantize.py).

The graph it builds is graph_ir.py's; the per-op lowerers are lowerers.py (LOWERERS); this
module holds the walk and the context they read the ONNX graph through.

May import: numpy, onnx, rnnedge.errors, rnnedge.export.{graph_ir, lowerers}.
"""

import numpy as np
import onnx
from onnx import numpy_helper

from rnnedge.errors import RnnedgeError
from rnnedge.export.graph_ir import Graph, Op, Tensor, nhwc
from rnnedge.export.lowerers import LOWERERS, clip_bounds, onnx_attrs


MAX_FOLD_PASSES = 8  # shape arithmetic nested deeper than this is left unfolded


def static_shapes(graph):
    """{tensor name: shape} of the graph's tensors whose dims are all known."""
    shapes = {}
    for vi in list(graph.value_info) + list(graph.input) + list(graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = tuple(d.dim_value for d in dims)
        elif vi.type.tensor_type.HasField("shape") and not dims:
            shapes[vi.name] = ()
    return shapes


# ONNX ops without a lowering -> the nearest form the exporter takes (the error's advice)
NEAREST_FORM = {
    "Softplus": "ReLU, or Sigmoid/Tanh if a smooth gate is meant",
    "Elu": "LeakyRelu", "Selu": "LeakyRelu", "Celu": "LeakyRelu", "Mish": "x * Sigmoid(x) (SiLU)",
    "ReduceProd": "ReduceSum or ReduceMean (TFLM has no REDUCE_PROD)",
    "Sqrt": "1 / Sqrt (Rsqrt)", "Exp": "Sigmoid or Softmax", "Log": "LogSoftmax",
    "Pow": "Mul (x * x)", "Reciprocal": "Div by a constant", "Erf": "Gelu",
    "Upsample": "Resize (opset 13+)", "ConvInteger": "Conv on float weights",
    "QuantizeLinear": "the float model (rnnedge quantises it)",
    "DequantizeLinear": "the float model (rnnedge quantises it)",
    "Expand": "Concat of copies, or broadcasting in Add/Mul", "Tile": "Concat of copies",
    "SpaceToDepth": "Reshape + Transpose",
    "Where": "Mul by a 0/1 mask", "Einsum": "MatMul", "Sin": "a lookup-free approximation",
}


def unsupported_message(node):
    """The one-line error for an ONNX op outside the table: op type, node, nearest form."""
    import difflib
    where = node.name or node.output[0]
    form = NEAREST_FORM.get(node.op_type)
    if form is None:
        close = difflib.get_close_matches(node.op_type, [k for k in LOWERERS if LOWERERS[k]], 1)
        form = close[0] if close else "an op of the supported-op table"
    return (f"cannot lower ONNX op {node.op_type} (node {where}): nearest supported form: "
            f"{form}; the table is in docs/export.md (`rnnedge ops --markdown`); rnnedge "
            "layers export in their static form (rnnedge.layers.set_form(model, 'static'))")


class LoweringContext:
    """Walks the ONNX graph once and builds the Graph; one method per ONNX op type."""

    def __init__(self, model, lstm="unrolled"):
        self.graph = model.graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.canonical = {}  # Identity of a constant -> the constant it repeats
        self.folded = set()  # first outputs of nodes computed here from constants alone
        self.graph = self._fold_constants(model)
        self.shapes = static_shapes(self.graph)
        self.consumers = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.out_names = {o.name for o in self.graph.output}
        self.tensors, self.ops = {}, []
        self.alias = {}      # ONNX name -> held tensor name (Identity, fused ReLU)
        self.flat_chw = {}   # flattened tensor name -> (C, H, W) of its NHWC element order
        self.flat_source = {}  # flattened tensor name -> the 4-D tensor FULLY_CONNECTED reads
        self.skip = set()    # first outputs of ONNX nodes consumed by a fusion
        self.int32_by_value = {}
        self.lstm = lstm     # LSTM nodes: "unrolled" builtins or "fused" (lowerers_recurrent)

    def _fold_constants(self, model):
        """Fold every node computable before run time (Constant, Identity of a constant,
        Shape/Size of a tensor with a static shape, nodes whose inputs are all constants),
        re-inferring shapes until nothing more folds; returns the inferred graph."""
        graph = self._infer_shapes(model)
        for _ in range(MAX_FOLD_PASSES):
            shapes, before = static_shapes(graph), len(self.folded)
            for node in self.graph.node:
                out = node.output[0] if node.output else ""
                if not out or out in self.consts:
                    continue
                if node.op_type == "Constant":
                    self.consts[out] = numpy_helper.to_array(onnx_attrs(node)["value"])
                elif node.op_type == "Identity" and node.input[0] in self.consts:
                    self.consts[out] = self.consts[node.input[0]]
                    self.canonical[out] = self.canonical.get(node.input[0], node.input[0])
                elif node.op_type in ("Shape", "Size") and node.input[0] in shapes:
                    dims = np.asarray(shapes[node.input[0]], np.int64)
                    a = onnx_attrs(node)
                    value = (dims[a.get("start", 0):a.get("end", len(dims))]
                             if node.op_type == "Shape" else np.int64(dims.prod()))
                    self.consts[out] = np.asarray(value, np.int64)
                    self.folded.add(out)
                elif node.input and all(not n or n in self.consts for n in node.input):
                    self._fold(node)
            if len(self.folded) == before:
                return graph
            graph = self._infer_shapes(model)
        return graph

    def _infer_shapes(self, model):
        """The graph with static shapes inferred, folded nodes replaced by their values (so
        shapes behind folded shape arithmetic, e.g. a Pad's, are known)."""
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        if self.folded:
            kept = [n for n in copy.graph.node if n.output[0] not in self.folded]
            values = [o for n in copy.graph.node if n.output[0] in self.folded for o in n.output]
            del copy.graph.node[:]
            copy.graph.node.extend(kept)
            copy.graph.initializer.extend(numpy_helper.from_array(self.consts[o], o) for o in values)
        return onnx.shape_inference.infer_shapes(copy).graph

    def _fold(self, node):
        """Evaluate a node whose inputs are all constants (shape arithmetic the exporter left,
        e.g. the ConstantOfShape/Concat/Reshape behind F.pad) with onnx's reference evaluator."""
        from onnx.reference import ReferenceEvaluator
        feeds = {n: self.consts[n] for n in node.input if n}
        try:
            values = ReferenceEvaluator(node).run(None, feeds)
        except Exception as exc:  # the evaluator raises many types for ops it cannot run
            raise RnnedgeError(f"cannot fold constant ONNX node {node.op_type} ({node.name}): "
                               f"{type(exc).__name__}") from None
        for name, value in zip(node.output, values):
            self.consts[name] = np.asarray(value)
        self.folded.add(node.output[0])

    # -- helpers ---------------------------------------------------------------------------
    def name(self, onnx_name):
        """The held tensor for an ONNX tensor name."""
        while onnx_name in self.alias:
            onnx_name = self.alias[onnx_name]
        return onnx_name

    def shape(self, onnx_name):
        """The ONNX (NCHW) shape of a tensor, which must be static."""
        if onnx_name in self.consts:
            return tuple(self.consts[onnx_name].shape)
        if onnx_name not in self.shapes:
            raise RnnedgeError(f"ONNX tensor {onnx_name} has no static shape; export with a "
                               "fixed input shape")
        return self.shapes[onnx_name]

    def act(self, name, onnx_shape):
        """Declare an activation tensor (held layout) and return its name."""
        self.tensors[name] = Tensor(name, nhwc(onnx_shape))
        return name

    def const(self, name, data, role, channel_axis=None):
        """Declare a constant tensor once per name (an Identity's output counts as the
        constant it repeats, so a shared weight stays one tensor) and return its name."""
        for alias, target in self.canonical.items():
            if name == alias or name.startswith(alias + "/"):
                name = target + name[len(alias):]
                break
        if name not in self.tensors:
            self.tensors[name] = Tensor(name, tuple(data.shape), role, data, channel_axis)
        return name

    def int32(self, name, values):
        """An int32 constant (axis, sizes, paddings); equal values share one tensor."""
        data = np.asarray(values, dtype=np.int32)
        key = (data.shape, data.tobytes())
        if key not in self.int32_by_value:
            self.int32_by_value[key] = self.const(name, data, "int32")
        return self.int32_by_value[key]

    def constant(self, onnx_name):
        """The value of a constant ONNX tensor (RnnedgeError if it is not one)."""
        if onnx_name not in self.consts:
            raise RnnedgeError(f"ONNX tensor {onnx_name} must be a constant for the int8 exporter")
        return self.consts[onnx_name]

    def emit(self, kind, inputs, outputs, source, **options):
        """Append a TFLite op."""
        self.ops.append(Op(kind, list(inputs), list(outputs), options, source))

    def operand(self, onnx_name, other_rank):
        """An elementwise operand: a held tensor, or a constant brought to the held layout."""
        if onnx_name not in self.consts:
            return self.name(onnx_name)
        data = self.consts[onnx_name].astype(np.float32)
        if other_rank == 4 and data.ndim >= 1 and data.size > 1:
            data = np.transpose(data.reshape((1,) * (4 - data.ndim) + data.shape), (0, 2, 3, 1))
        return self.const(onnx_name + "/nhwc", np.ascontiguousarray(data), "operand")

    def rank(self, onnx_name):
        """The ONNX rank of a tensor."""
        return len(self.shape(onnx_name))

    def single_consumer(self, onnx_name, op_types):
        """The only consumer of a tensor if it is of one of op_types and the tensor is not a
        graph output; else None."""
        users = self.consumers.get(onnx_name, [])
        if len(users) == 1 and users[0].op_type in op_types and onnx_name not in self.out_names:
            return users[0]
        return None

    def fused_activation(self, out_name):
        """If the only consumer of out_name is a ReLU/ReLU6, fuse it: returns (activation,
        the name the fused op writes)."""
        user = self.single_consumer(out_name, ("Relu", "Clip"))
        if user is None:
            return "NONE", out_name
        if user.op_type == "Clip":
            lo, hi = clip_bounds(self, user)
            if (lo, hi) != (0.0, 6.0):
                return "NONE", out_name
        self.skip.add(user.output[0])
        return ("RELU" if user.op_type == "Relu" else "RELU6"), user.output[0]

    # -- lowering --------------------------------------------------------------------------
    def run(self):
        """Lower every node in order; returns the Graph."""
        for inp in self.graph.input:
            if inp.name not in self.consts:
                self.act(inp.name, self.shape(inp.name))
        for node in self.graph.node:
            if (node.output[0] in self.skip or node.op_type == "Constant"
                    or node.output[0] in self.canonical or node.output[0] in self.folded):
                continue
            handler = LOWERERS.get(node.op_type)
            if handler is None:
                raise RnnedgeError(unsupported_message(node))
            handler(self, node, onnx_attrs(node))
        inputs = [i.name for i in self.graph.input if i.name not in self.consts]
        outputs = [self.name(o.name) for o in self.graph.output]
        return Graph(self.tensors, self.ops, inputs, outputs)


def lower(model, lstm="unrolled"):
    """Lower an ONNX ModelProto to a Graph of TFLite builtins in NHWC (float constants)."""
    return LoweringContext(model, lstm).run()
