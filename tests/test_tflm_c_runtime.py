"""Every model of rnnedge.tflm_test_models (int8 and int16x8 convs, TRANSPOSE_CONV, two
inputs, WHILE / IF / CALL_ONCE, SVDF, int8 and 16x8 LSTMs) runs in the C runtime with TFLM's
bytes: the best and inplace plans in debug mode, three invocations carrying any state, a
reset, one more invocation, random inputs over the whole input type's range, 0 bytes
different from tflite-micro every time."""

import numpy as np
import pytest

from rnnedge import tflm_test_models
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace"])
@pytest.mark.parametrize("name", sorted(tflm_test_models.BUILDERS))
def test_c_runtime_gives_tflm_bytes(name, planner, tflm_model_paths):
    tflm = pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths[name]
    program = compile_model(path, planner)
    runtime = Runtime(program, debug=True)
    interp = tflm.runtime.Interpreter.from_file(path, arena_size=1 << 22)
    rng = np.random.default_rng(len(name))
    for k in range(4):
        if k == 3:
            runtime.reset()
            interp.reset()
        xs = [rng.integers(np.iinfo(p.dtype).min, np.iinfo(p.dtype).max + 1, p.shape)
              .astype(p.dtype) for p in program.inputs]
        for i, x in enumerate(xs):
            interp.set_input(x, i)
        interp.invoke()
        got = runtime.invoke(*xs)
        assert len(got) == len(program.outputs)
        for i, g in enumerate(got):
            expected = np.array(interp.get_output(i))
            assert expected.dtype == g.dtype and expected.shape == g.shape
            differ = np.count_nonzero(expected.view(np.uint8) != g.view(np.uint8))
            assert differ == 0, f"{name} {planner} invocation {k} output {i}: {differ} bytes"
