"""det-crnn-480x640 with Bayer input (issue 20's "Checked by"): a 307,200-B input tensor,
fully int8, runs in TFLM, rnnedge's C kernels give TFLM's bytes (0 different) on the inplace
plan, whose arena is below the RGB model's.

Independent sources: TFLM (tflite-micro) for the output bytes; for the RGB model's arena the
formula of its peak, its first convolution's RGB input (480 x 640 x 3 B) plus output (read
from the graph: the fold keeps conv 1's output), 1,536,000 B, which is what its inplace plan
measures (docs/camera-input.md) without exporting the RGB model here."""

import numpy as np
import pytest
import torch

from rnnedge import zoo

pytestmark = pytest.mark.slow

NAME, FORMAT = "det-crnn-480x640", "bayer-rggb"


@pytest.fixture(scope="session")
def bayer_detector(tmp_path_factory):
    """The int8 export of the Bayer 480x640 CRNN (seed-0 weights), once per session."""
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed")
    from rnnedge.export.pipeline import export_int8
    path = tmp_path_factory.getbasetemp() / f"{NAME}-{FORMAT}.tflite"
    if not path.exists():
        torch.manual_seed(0)
        meta = {"input_shape": list(zoo.input_shape(NAME, FORMAT)), "zoo_name": NAME,
                "normalization": {"mean": [0.5], "std": [0.25]},
                "config": {"input_format": FORMAT}}
        export_int8(zoo.build(NAME, input_format=FORMAT), meta, str(path), calib_samples=2,
                    check_samples=1, run_tflm=False)  # TFLM runs below
    return str(path)


def test_bayer_480x640_detector_is_bit_exact_with_tflm_below_the_rgb_arena(bayer_detector):
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model
    from rnnedge.tflm_probe import run_tflm
    sg = read_model(bayer_detector).main
    tin = sg.tensors[sg.inputs[0]]
    assert tuple(tin.shape) == (1, 480, 640, 1) and tin.type_name == "INT8"
    assert int(np.prod(tin.shape)) == 307_200
    assert all(t.type_name in ("INT8", "INT32") for t in sg.tensors)  # fully int8
    assert not {op.opcode for op in sg.operators} & {"CUSTOM", "FLEX", "WHILE", "DEQUANTIZE"}
    x = np.random.default_rng(20).integers(-128, 128, (1, 480, 640, 1), dtype=np.int8)
    micro = run_tflm(bayer_detector, [x])
    run = make_backend("c", bayer_detector, planner="inplace")
    ours = run(x)
    assert len(ours) == len(micro) == 5
    different = sum(int(np.count_nonzero(np.asarray(a).reshape(-1) != np.asarray(b).reshape(-1)))
                    for a, b in zip(ours, micro))
    assert different == 0
    conv1 = next(op for op in sg.operators if op.opcode == "CONV_2D")
    conv1_bytes = int(np.prod(sg.tensors[conv1.outputs[0]].shape))
    assert conv1_bytes == 240 * 320 * 8  # the stem: 3x3 (folded 5x5) stride 2, 8 channels
    rgb_floor = 480 * 640 * 3 + conv1_bytes  # the RGB model's conv 1 reads and writes both
    arena = run.runtime.program.arena
    assert 307_200 + conv1_bytes <= arena < rgb_floor
    print(f"bayer inplace arena {arena:,} B vs the RGB model's peak {rgb_floor:,} B")
