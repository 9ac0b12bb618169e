"""The ops TF's converter will not emit in int8 (CUMSUM, ADD_N, FILL, ZEROS_LIKE, SHAPE as a
graph output, EMBEDDING_LOOKUP) or tf.lite cannot load (DEPTH_TO_SPACE, REVERSE_V2), as schema-written models run by
the whole firmware path (rnnedge's reader, compiler, plan, runtime in debug mode) on the
best, inplace and tflm plans: 0 bytes different from tflite-micro."""

import numpy as np
import pytest

from schema_models import Spec, options, single_op_model
from rnnedge.firmware_sim.backends import make_backend

Q, QO = (0.05, 3), (0.3, -11)


def _models():
    axis = Spec((), np.int32, None, np.array(1, np.int32))
    return {
        "cumsum": single_op_model("CUMSUM", [Spec((1, 6, 3), np.int8, Q), axis],
                                  [Spec((1, 6, 3), np.int8, QO)],
                                  options("CumsumOptions", exclusive=False, reverse=True),
                                  "CumsumOptions"),
        "depth_to_space": single_op_model("DEPTH_TO_SPACE", [Spec((1, 2, 3, 8), np.int8, Q)],
                                          [Spec((1, 4, 6, 2), np.int8, Q)],
                                          options("DepthToSpaceOptions", blockSize=2),
                                          "DepthToSpaceOptions"),
        "reverse_v2": single_op_model("REVERSE_V2", [
            Spec((1, 4, 5), np.int8, Q), Spec((1,), np.int32, None, np.array([-1], np.int32))],
            [Spec((1, 4, 5), np.int8, Q)]),
        "shape": single_op_model("SHAPE", [Spec((1, 4, 5), np.int8, Q)], [Spec((3,), np.int32)],
                                 options("ShapeOptions", outType=2), "ShapeOptions"),
        "zeros_like": single_op_model("ZEROS_LIKE", [Spec((1, 3, 2), np.int8, Q)],
                                      [Spec((1, 3, 2), np.int8, Q)]),
        "add_n": single_op_model("ADD_N", [Spec((1, 4, 3), np.int8, Q)] * 3,
                                 [Spec((1, 4, 3), np.int8, QO)]),
        "embedding_lookup": single_op_model(
            "EMBEDDING_LOOKUP", [Spec((3,), np.int32),
                                 Spec((5, 4), np.int8, Q, np.arange(-10, 10).reshape(5, 4))],
            [Spec((3, 4), np.int8, Q)]),
        "fill": single_op_model("FILL", [Spec((2,), np.int32, None, np.array([3, 4], np.int32)),
                                         Spec((), np.int8, Q)], [Spec((3, 4), np.int8, Q)]),
    }


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema-models")
    paths = {}
    for name, raw in _models().items():
        paths[name] = root / f"{name}.tflite"
        paths[name].write_bytes(raw)
    return paths


@pytest.mark.parametrize("planner", ["best", "inplace", "tflm"])
@pytest.mark.parametrize("name", list(_models()))
def test_schema_model_runs_like_tflm(models, name, planner):
    path = models[name]
    shape = {"cumsum": (1, 6, 3), "depth_to_space": (1, 2, 3, 8), "reverse_v2": (1, 4, 5),
             "shape": (1, 4, 5), "zeros_like": (1, 3, 2), "fill": (), "add_n": (1, 4, 3),
             "embedding_lookup": (3,)}[name]
    rng = np.random.default_rng(4)
    if name == "embedding_lookup":
        xs = [np.array([4, 0, 2], np.int32)]
    else:
        xs = [rng.integers(-128, 128, shape, dtype=np.int8)
              for _ in range(3 if name == "add_n" else 1)]
    expected = make_backend("tflm", path)(*xs)
    got = make_backend("c", path, planner=planner, debug=True)(*xs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.tobytes() == e.tobytes(), f"{name}: {g} != TFLM {e}"
