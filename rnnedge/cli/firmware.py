"""`rnnedge firmware`: emit a model as standalone C firmware (and optionally build it).

Parses arguments, calls rnnedge.firmware_sim (compile, codegen, toolchain) and prints what it
wrote and, with --build, the section sizes. Holds no model logic.
"""

import json
import os

import click

from rnnedge.cli.options import max_arena_option, max_recompute_option
from rnnedge.errors import RnnedgeError
from rnnedge.kernels.build import KERNEL_SETS
from rnnedge.planner import PLANNERS


@click.command("firmware")
@click.argument("model_path", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to write the C sources, headers and Makefile into.")
@click.option("--planner", type=click.Choice(PLANNERS), default="best", show_default=True,
              help="Arena layout baked into the firmware.")
@click.option("--build", "targets", multiple=True, type=click.Choice(["host", "m55", "m4", "m7"]),
              help="Also compile for this target (repeatable); m55 (Helium kernels), m4/m7 (DSP "
              "SMLAD kernels) need arm-none-eabi-gcc.")
@click.option("--kernels", type=click.Choice(KERNEL_SETS), default=KERNEL_SETS[0],
              show_default=True, help="Kernel sources to ship: the optimised ones (same "
              "bytes, faster) or the readable reference ones.")
@click.option("--stream-input", is_flag=True, help="--planner fused: the graph input is not "
              "held in the arena; the firmware pulls each input row through the "
              "rn_input_source callback (model.h) as the first fused stage needs it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@max_arena_option
@max_recompute_option
def firmware(model_path, out_dir, planner, targets, kernels, stream_input, as_json, max_arena,
             max_recompute):
    """Write MODEL_PATH as C firmware into -o DIR: const weights, the op schedule, one static
    arena of the planned size and a main() that maps input bytes to output bytes."""
    from rnnedge.firmware_sim import codegen, toolchain
    from rnnedge.firmware_sim.compiler import compile_model

    if not os.path.isfile(model_path):
        raise RnnedgeError(f"model file {model_path} does not exist")
    from rnnedge.kernels import load

    for target in targets:  # a microcontroller's arena must fit its RAM
        max_arena = min(max_arena, codegen.TARGET_RAM.get(target, max_arena))
    if stream_input and planner != "fused":
        raise RnnedgeError("--stream-input needs --planner fused")
    if max_recompute and planner != "fused":
        raise RnnedgeError("--max-recompute needs --planner fused")
    program = compile_model(model_path, planner, lib=load(kernels=kernels), max_arena=max_arena,
                            stream_input=stream_input, max_recompute=max_recompute)
    written = codegen.write_firmware(program, out_dir, kernels)
    from rnnedge.detect.firmware import write_detect_sources
    detect_files = write_detect_sources(model_path, out_dir)  # a detector: C decode + NMS too
    detector = bool(detect_files)
    written += detect_files
    from rnnedge.firmware_sim.sensor_input import write_sensor_sources
    written += write_sensor_sources(model_path, out_dir)  # an image model: raw camera frames
    report = {"model": model_path, "directory": out_dir, "planner": planner, "kernels": kernels,
              "arena_bytes": program.arena, "recompute_macs": program.plan.recompute_macs,
              "row_scratch_bytes": program.scratch,
              "variable_bytes": program.variable_bytes, "flash_bytes": program.flash_bytes,
              "steps": len(program.steps),
              "streamed_inputs": [p.name for p in program.inputs if p.streamed],
              "files": len(written), "builds": {}}
    for target in targets:
        if target == "host":
            path = toolchain.build_host(out_dir)
            report["builds"][target] = {"path": str(path)}
        else:
            path = toolchain.build_arm(out_dir, target)
            report["builds"][target] = {"path": str(path), **toolchain.section_sizes(path)}
            if detector:  # the device program that returns boxes, for the same CPU
                from rnnedge.detect.firmware import build_detect_arm
                path = build_detect_arm(out_dir, target)
                report["builds"][f"{target}-detect"] = {"path": str(path),
                                                        **toolchain.section_sizes(path)}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"wrote {len(written)} files to {out_dir}: arena {program.arena} B "
               f"({planner} plan), row scratch {program.scratch} B, constants "
               f"{program.flash_bytes} B, {len(program.steps)} steps")
    for target, info in report["builds"].items():
        sizes = ", ".join(f"{k} {v}" for k, v in info.items() if k != "path")
        click.echo(f"built {target}: {info['path']}" + (f" ({sizes})" if sizes else ""))
    if not targets:
        click.echo(f"build: make -C {out_dir}  (Cortex-M: make -C {out_dir} m55 | m4 | m7)")
