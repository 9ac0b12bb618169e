"""Column tiles inside row-fused regions (rnnedge/planner/fused_tiles.py, `--max-recompute`).

Independent checks: the tile columns and the extra MACs of a 3-op chain worked out by hand
below (receptive-field arithmetic on paper, MACs by the paper's eq. 17, not the code's
helpers); tiled plans run by the firmware runtime in debug mode (poisoned dead bytes, CRC
of every live tensor after every step) give tflite-micro's output bytes on that chain, a
small-input detector and Keras' MobileNetV2 at 96; the default (no budget) is today's plan
exactly; the chosen recompute stays within the budget."""

import json

import numpy as np
import pytest

from rnnedge.firmware_sim.backends import make_backend
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.op_table import op_macs
from rnnedge.planner import plan
from rnnedge.planner.fused import build_region
from rnnedge.planner.fused_tiles import tile_region
from rnnedge.tflite import read_model
from helpers import model_inputs, small_export
from test_firmware_fused import mobilenet_v2_96
from test_planner_fused import check_plan


def _keras_int8(tmp_path_factory, name, input_shape, seed, layers):
    """The int8 .tflite of the Keras graph `layers(keras.layers, input)` (seeded), converted
    once per session."""
    path = tmp_path_factory.getbasetemp() / f"{name}.tflite"
    if not path.exists():
        tf = pytest.importorskip("tensorflow", reason="tensorflow (TFLiteConverter) is not "
                                 "installed")
        from rnnedge import tinyml_models

        tf.keras.utils.set_random_seed(seed)
        x = tf.keras.layers.Input(input_shape)
        model = tf.keras.Model(x, layers(tf.keras.layers, x))
        path.write_bytes(tinyml_models.to_int8_tflite(model, samples=4))
    return str(path)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """16x16x3 -> conv 3x3 s1 SAME (8) -> depthwise 3x3 s2 SAME -> conv 1x1 (16), int8."""
    def layers(L, x):
        y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        y = L.DepthwiseConv2D(3, strides=2, padding="same")(y)
        return L.Conv2D(16, 1)(y)

    return _keras_int8(tmp_path_factory, "tile_chain", (16, 16, 3), 0, layers)


def run_debug(program, x) -> list:
    runtime = Runtime(program, debug=True)
    results = [runtime.invoke(sample[None]) for sample in x]
    return [np.concatenate([r[i] for r in results]) for i in range(len(results[0]))]


def test_two_tiles_of_the_chain_by_hand(chain):
    """Tiles of the 8-wide output: [0, 4) and [4, 8). The 1x1 conv reads the same columns of
    the depthwise output. The depthwise conv (stride 2, SAME over 16: total padding
    max(0, 7*2 + 3 - 16) = 1, leading 0) reads [0*2, 3*2 + 3) = [0, 9) and [8, 7*2 + 3) =
    [8, 17) -> [8, 16). The 3x3 conv (leading padding 1) reads [0 - 1, 8 - 1 + 3) -> [0, 10)
    and [7, 16). Only the 3x3 conv computes a column twice (9 + 8 = 17 of 16):
    extra MACs = 1 column x 16 rows x (3*3*3*8 + 8) = 3,584."""
    sg = read_model(chain).main
    assert [op.opcode for op in sg.operators] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"]
    region = build_region(sg, [(0,), (1,), (2,)])
    tiled = tile_region(sg, region, 2)
    conv_out, dw_out, x = sg.operators[0].outputs[0], sg.operators[1].outputs[0], sg.inputs[0]
    assert [c[sg.operators[2].outputs[0]] for c in tiled.tiles] == [(0, 4), (4, 8)]
    assert [c[dw_out] for c in tiled.tiles] == [(0, 4), (4, 8)]
    assert [c[conv_out] for c in tiled.tiles] == [(0, 9), (8, 16)]
    assert [c[x] for c in tiled.tiles] == [(0, 10), (7, 16)]
    assert tiled.recompute_macs == 16 * (3 * 3 * 3 * 8 + 8)
    assert tiled.staged == (x,)  # the whole input, read by a 3-row band, fetched per tile
    # windows hold rows of the widest tile: 9 columns x 8 channels, 10 x 3 of the input
    assert tiled.row_bytes[conv_out] == 9 * 8 and tiled.row_bytes[x] == 10 * 3
    assert tiled.window_bytes(conv_out) < region.window_bytes(conv_out)
    assert sum(e[0] == "row" for e in tiled.events) == sum(
        e[0] == "row" for e in region.events)  # per tile, each row once (vertical halo kept)


def test_no_budget_is_todays_plan(chain, mixed_chain):
    for f in (chain, mixed_chain):
        model = read_model(f)
        a, b = plan(model, "fused", True), plan(model, "fused", True, max_recompute=0.0)
        assert a == b and not any(r.tiles for r in a.regions) and a.recompute_macs == 0


def tiled_plan(f, budget, stream):
    """The fused plan of `f` with a recompute budget; its recompute is within it."""
    model = read_model(f)
    macs = sum(op_macs(op, model.main.tensors) or 0 for op in model.main.operators)
    p = plan(model, "fused", False, stream_input=stream, max_recompute=budget)
    assert p.recompute_macs <= budget * macs
    return p


@pytest.mark.parametrize("name", ["chain", "det-cnn-256",
                                  pytest.param("mobilenet_v2_96", marks=pytest.mark.slow)])
def test_tiled_plans_run_bit_exactly(chain, tmp_path_factory, name):
    """Held and streamed input (MobileNetV2: held, one sample, to keep the suite short)."""
    f = {"chain": lambda: chain,
         "det-cnn-256": lambda: small_export(tmp_path_factory, "det-cnn-256", (3, 64, 64)),
         "mobilenet_v2_96": lambda: mobilenet_v2_96(tmp_path_factory)}[name]()
    big = name == "mobilenet_v2_96"
    x = model_inputs(f, 1 if big else 2, seed=3)
    expected = make_backend("tflm", f)(x)
    tiled = 0
    for stream in (False,) if big else (False, True):
        p = tiled_plan(f, 0.10, stream)
        untiled = plan(read_model(f), "fused", False, stream_input=stream)
        assert p.arena <= untiled.arena
        tiled += any(r.tiles for r in p.regions)
        check_plan(p, read_model(f).main)  # per tile: bands held, rows computed once
        program = compile_model(f, plan=p)
        got = run_debug(program, x)
        assert all(np.array_equal(g, e) for g, e in zip(got, expected))
    assert tiled  # some plan of each model runs column tiles


def test_cli_arena_and_run_with_a_recompute_budget(chain, tmp_path):
    from click.testing import CliRunner
    from rnnedge.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["arena", chain, "--planner", "fused", "--max-recompute", "10%",
                                  "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    fused = report["fused"]
    tiled = [r for r in fused["regions"] if r["tile_grid"][1] > 1]
    assert tiled and fused["max_recompute"] == 0.1
    assert fused["recompute_macs"] == sum(r["recompute_macs"] for r in fused["regions"]) > 0
    assert fused["recompute_fraction"] == fused["recompute_macs"] / report["macs"] <= 0.1
    assert report["arena"]["fused"] < fused["untiled_arena"]
    assert all(r["window_bytes_saved"] > 0 for r in tiled)
    text = runner.invoke(main, ["arena", chain, "--planner", "fused", "--max-recompute", "10"])
    assert "column tiles" in text.output and "budget 10%" in text.output
    x = model_inputs(chain, 2, seed=5)
    np.save(tmp_path / "x.npy", x)
    result = runner.invoke(main, ["run", chain, "--input", str(tmp_path / "x.npy"), "--planner",
                                  "fused", "--max-recompute", "10%", "--debug",
                                  "--output", str(tmp_path / "y.npz")])
    assert result.exit_code == 0, result.output
    got = np.load(tmp_path / "y.npz")
    expected = make_backend("tflm", chain)(x)
    assert all(np.array_equal(got[k], e) for k, e in zip(sorted(got.files), expected))
    for bad in (["arena", chain, "--max-recompute", "lots"],
                ["arena", chain, "--max-recompute", "150%"],
                ["run", chain, "--input", str(tmp_path / "x.npy"), "--max-recompute", "5%"]):
        result = runner.invoke(main, bad)
        assert result.exit_code == 2 and "--max-recompute" in result.output


@pytest.mark.slow
def test_generated_c_runs_a_tiled_plan_under_sanitizers(chain, tmp_path):
    from rnnedge.firmware_sim import codegen, toolchain
    from rnnedge.kernels import cflags

    program = compile_model(chain, "fused", max_recompute=0.10)
    assert any(r.tiles for r in program.plan.regions)
    codegen.write_firmware(program, tmp_path / "fw")
    x = model_inputs(chain, 2, seed=7)
    expected = make_backend("tflm", chain)(x)
    executable = toolchain.build_host(tmp_path / "fw", extra_flags=cflags.SANITIZE)
    assert toolchain.run_host(executable, x.tobytes()) == b"".join(
        e[i:i + 1].tobytes() for i in range(len(x)) for e in expected)


@pytest.fixture(scope="module")
def mixed_chain(tmp_path_factory):
    """18x22x3 -> conv 3x3 SAME -> max pool 2 s2 SAME -> (depthwise 3x3 SAME) + skip ->
    average pool 3 s1 SAME -> conv 3x3 stride (1, 2) VALID: pools, a residual ADD whose skip
    the tiles read twice, odd widths, a stride that differs between H and W."""
    def layers(L, x):
        y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        y = L.MaxPooling2D(2, 2, padding="same")(y)
        y = L.Add()([y, L.DepthwiseConv2D(3, padding="same")(y)])
        y = L.AveragePooling2D(3, 1, padding="same")(y)
        return L.Conv2D(6, 3, strides=(1, 2), padding="valid")(y)

    return _keras_int8(tmp_path_factory, "tile_mixed_chain", (18, 22, 3), 1, layers)


@pytest.mark.parametrize("stream", [False, True])
def test_every_tile_count_runs_bit_exactly(mixed_chain, monkeypatch, stream):
    """Each region forced to n = 2..MAX_TILES column tiles (whatever its arena): the plan
    replays (bands held, rows once per tile) and runs with TFLM's bytes."""
    from rnnedge.planner import fused_choice
    from rnnedge.planner.fused_tiles import MAX_TILES

    model = read_model(mixed_chain)
    x = model_inputs(mixed_chain, 2, seed=11)
    expected = make_backend("tflm", mixed_chain)(x)
    for n in range(2, MAX_TILES + 1):
        monkeypatch.setattr(fused_choice, "_tiled", lambda sg, order, regions, size, spans,
                            budget: [tile_region(sg, r, n) or r for r in regions])
        p = plan(model, "fused", False, stream_input=stream, max_recompute=1.0)
        assert any(len(r.tiles) == n for r in p.regions)
        check_plan(p, model.main)
        got = run_debug(compile_model(mixed_chain, plan=p), x)
        assert all(np.array_equal(g, e) for g, e in zip(got, expected)), f"{n} tiles"
