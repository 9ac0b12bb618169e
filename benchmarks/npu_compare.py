"""The NPU comparison of benchmarks/export.py (issue 21): every CRNN beside its CNN twin on
Vela's estimates, the recurrent head's per-layer cycles and the floors.

Reads the reports of benchmarks/export.py's rnnedge children (each with "vela_all": one
`rnnedge.export.vela_check.vela_summary` per configuration, per-layer rows for the first) and
the exported .tflite files (rnnedge.tflite reader) to find the recurrent steps.
"""

#: each CRNN of the zoo and its CNN twin with the same parameter budget (Table 6, 1, 2).
TWINS = {"cifar-resnet18-rnn": "cifar-resnet18-thin", "det-crnn-256": "det-cnn-256",
         "det-crnn-480x640": "det-cnn-480x640"}


def step_names(tflite_path):
    """(names of the recurrent steps' W_hh CONV_2D outputs, names of their ADD / TANH outputs):
    a step conv is one whose weight buffer other convs read too (the unrolled W_hh) and
    whose output no CONCATENATION reads (the "pairs" layout's per-run projections share
    W_ih and write into the next pass's projection); its ADDs read its output directly or
    through a SPLIT (one half per direction in "pairs"), and Vela names an ADD's pass after
    the tensor it writes (the fused TANH's output, or in "pairs" the state it is joined into)."""
    from rnnedge.tflite import read_model
    sg = read_model(tflite_path).main
    consumers = {}
    for op in sg.operators:
        for i in op.inputs:
            consumers.setdefault(i, []).append(op)
    convs = [op for op in sg.operators if op.opcode == "CONV_2D"
             and not any(c.opcode == "CONCATENATION" for c in consumers.get(op.outputs[0], []))]
    readers = {}
    for op in convs:
        readers.setdefault(sg.tensors[op.inputs[1]].buffer, []).append(op)
    step_convs = [op for ops in readers.values() if len(ops) > 1 for op in ops]
    conv_names, add_names = set(), set()
    for op in step_convs:
        conv_names.add(sg.tensors[op.outputs[0]].name)
        direct = consumers.get(op.outputs[0], [])
        halves = [c for split in direct if split.opcode == "SPLIT"
                  for out in split.outputs for c in consumers.get(out, [])]
        for add in direct + halves:
            if add.opcode != "ADD":
                continue
            add_names.add(sg.tensors[add.outputs[0]].name)
            for tanh in consumers.get(add.outputs[0], []):
                if tanh.opcode == "TANH":   # Vela names the fused pass after what it writes:
                    add_names.add(sg.tensors[tanh.outputs[0]].name)   # the TANH output or
                    add_names.update(sg.tensors[c.outputs[0]].name    # the state it joins
                                     for c in consumers.get(tanh.outputs[0], [])
                                     if c.opcode == "CONCATENATION")
    return conv_names, add_names


def recurrent_floor(crnn_path, crnn, twin):
    """Vela cycles of a CRNN split against its CNN twin (per-layer rows of ethos-u55-128):
    the backbone (rows whose name the twin has too), the recurrent head (the rest), the
    steps' W_hh CONVs and ADD(+TANH LUT) passes within it, and the floors: backbone + step
    CONVs only (one pass a step, everything else free) and backbone + step CONVs + step ADDs."""
    layers = crnn["vela_all"]["ethos-u55-128"]["layers"]
    twin_names = {layer["name"] for layer in twin["vela_all"]["ethos-u55-128"]["layers"]}
    conv_names, add_names = step_names(crnn_path)
    backbone = sum(layer["cycles"] for layer in layers if layer["name"] in twin_names)
    head = [layer for layer in layers if layer["name"] not in twin_names]
    convs = [layer["cycles"] for layer in head if layer["op"] == "Conv2D" and layer["name"] in conv_names]
    adds = sum(layer["cycles"] for layer in head if layer["op"] == "Add" and layer["name"] in add_names)
    by_op = {}
    for layer in head:
        key = f"{layer['op']}->{layer['npu_op']}" if layer["op"] != layer["npu_op"] else layer["op"]
        by_op[key] = by_op.get(key, 0) + layer["cycles"]
    return {"backbone": backbone, "head": sum(layer["cycles"] for layer in head),
            "step_convs": len(convs), "step_conv_cycles": sum(convs), "step_add_cycles": adds,
            "floor_one_pass": backbone + sum(convs), "floor_two_pass": backbone + sum(convs) + adds,
            "head_by_op": dict(sorted(by_op.items(), key=lambda kv: -kv[1]))}


def npu_table(reports):
    """Markdown: each CRNN beside its CNN twin on Vela's estimates for every configuration."""
    from rnnedge.export.vela_check import ACCELERATOR, ACCELERATORS
    head = " | ".join(f"{acc[6:]} cycles (ms)" for acc in ACCELERATORS)
    rows = [f"| model | ops | NPU passes (U55-128) | {head} | SRAM KiB (U55-128) | CPU ops | "
            "U55-128 cycles / twin |", "|---|" + "---|" * (len(ACCELERATORS) + 5)]
    heads = []
    for crnn, twin in TWINS.items():
        pair = [reports.get(crnn), reports.get(twin)]
        if any(r is None or "error" in r for r in pair):
            continue
        for name, r in zip((crnn, twin), pair):
            vela = r["vela_all"]
            cells = " | ".join(f"{vela[a]['cycles']:,.0f} ({1000 * vela[a]['inference_s']:.2f})"
                               for a in ACCELERATORS)
            ratio = vela[ACCELERATOR]["cycles"] / pair[1]["vela_all"][ACCELERATOR]["cycles"]
            rows.append(f"| {name} | {r['stats']['ops']} | {vela[ACCELERATOR]['npu_passes']} | "
                        f"{cells} | {vela[ACCELERATOR]['sram_kib']:.1f} | "
                        f"{max(vela[a]['cpu_ops'] for a in ACCELERATORS)} | {ratio:.2f} |")
        floor = recurrent_floor(pair[0]["output"], *pair)
        target = pair[1]["vela_all"][ACCELERATOR]["cycles"]
        heads.append(
            f"- {crnn} on U55-128: backbone (layers named as in {twin}) {floor['backbone']:,.0f}, "
            f"recurrent head {floor['head']:,.0f} = " + ", ".join(
                f"{k} {v:,.0f}" for k, v in floor["head_by_op"].items())
            + f". {floor['step_convs']} sequential step CONVs (W_hh) {floor['step_conv_cycles']:,.0f}, "
            f"their ADD+TANH passes {floor['step_add_cycles']:,.0f}. Floor with one pass a step "
            f"(backbone + step CONVs, everything else free) {floor['floor_one_pass']:,.0f} = "
            f"{floor['floor_one_pass'] / target:.2f} x {twin}; with the ADD pass "
            f"{floor['floor_two_pass']:,.0f} = {floor['floor_two_pass'] / target:.2f} x.")
    return "\n".join(rows + [""] + heads)
