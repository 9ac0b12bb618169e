"""The NPU comparison of benchmarks/export.py (issue 21): every CRNN beside its CNN twin on
Vela's estimates, the recurrent head's per-layer cycles and the floors.

Reads the reports of benchmarks/export.py's rnnedge children (each with "vela_all": one
`rnnedge.export.vela_check.vela_summary` per configuration, per-layer rows for the first) and
the exported .tflite files (rnnedge.tflite reader) to find the recurrent steps.

The TFLM floor (`tflm_floor`): the check "TFLM head + tail of each CRNN <= 1.1 x its twin's"
against what an unrolled recurrence cannot do without. The CRNN keeps the twin's head (the
planned arena is the shared backbone's peak) and the part of the twin's tail that is not the
twin's own head (its ops whose outputs the CRNN lacks, with the constants only they read),
and adds at least, per sequential pass of T steps: T TANH, T - 1 W_hh ops and T - 1 ADDs
(h_0 = tanh(P_0), h_t = tanh(P_t + W_hh h_{t-1}); a ReLU cell fuses into the ADD), one
W_ih projection, one ADD summing the directions (folding it into the next projection would
store W_ih twice) and ceil((T - 1) / 9) CONCATENATIONs (TFLM's take at most 10 inputs, and
T step outputs become one map), each with its node, params, kernel data and output tensor
(rnnedge.tflm_tail's per-op sizes, which reproduce TFLM's measured tail). Everything else
(flips, splits, hand-offs, constants) is counted free. Two step ops: CONV_2D (the default
`--recurrent-step conv`; TFLM sizes its per-channel multiplier and shift arrays by the output
channels whatever the filter's quantisation, conv_common.cc ConvPrepare) and a per-tensor
FULLY_CONNECTED (`--recurrent-step fc`, rnnedge.export.fc_steps; no per-channel arrays,
fully_connected_common.cc), the cheapest TFLM offers, at its measured size
(rnnedge.tflm_tail: 200 B with its node and output tensor). `fc_saving` estimates what FC
steps would save on an export with CONV_2D steps (the prediction the FC exports measure).

Imports rnnedge.tflite, rnnedge.tflm_tail, rnnedge.tflm_probe, rnnedge.layers, rnnedge.zoo,
rnnedge.export.pipeline (rnn_scopes)
and torch, each inside the function that needs it.
"""

#: each CRNN of the zoo and its CNN twin with the same parameter budget (Table 6, 1, 2).
TWINS = {"cifar-resnet18-rnn": "cifar-resnet18-thin", "det-crnn-256": "det-cnn-256",
         "det-crnn-480x640": "det-cnn-480x640"}


def step_names(tflite_path):
    """(names of the recurrent steps' W_hh op outputs, names of their ADD / TANH outputs):
    a step op (CONV_2D, or FULLY_CONNECTED with `--recurrent-step fc`) is one whose weight
    buffer other step ops read too (the unrolled W_hh) and
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
    convs = [op for op in sg.operators if op.opcode in ("CONV_2D", "FULLY_CONNECTED")
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
    convs = [layer["cycles"] for layer in head
             if layer["op"] in ("Conv2D", "FullyConnected") and layer["name"] in conv_names]
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
            + f". {floor['step_convs']} sequential step ops (W_hh) {floor['step_conv_cycles']:,.0f}, "
            f"their ADD+TANH passes {floor['step_add_cycles']:,.0f}. Floor with one pass a step "
            f"(backbone + step ops, everything else free) {floor['floor_one_pass']:,.0f} = "
            f"{floor['floor_one_pass'] / target:.2f} x {twin}; with the ADD pass "
            f"{floor['floor_two_pass']:,.0f} = {floor['floor_two_pass'] / target:.2f} x.")
    return "\n".join(rows + [""] + heads + ["", tflm_table(reports)])


def recurrent_passes(model, input_shape):
    """[(T, hidden, cell)] of every sequential pass of the SWS-BiRNN layers of `model` (a
    torch module, run once on zeros of `input_shape` = C, H, W): the row pass has T = W
    steps of rnn1's hidden size, the column pass T = H of rnn2's."""
    import torch
    from rnnedge.layers import SWSBiRNN
    passes, hooks = [], []

    def record(layer, inputs, _output):
        _, _, height, width = inputs[0].shape
        passes.extend([(width, layer.rnn1.hidden, layer.rnn1.cell),
                       (height, layer.rnn2.hidden, layer.rnn2.cell)])

    for layer in model.modules():
        if isinstance(layer, SWSBiRNN):
            hooks.append(layer.register_forward_hook(record))
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for hook in hooks:
        hook.remove()
    return passes


def recurrence_tail(passes, step_op="CONV_2D"):
    """The least TFLM tail bytes the sequential steps of `passes` need (module docstring)."""
    from rnnedge.layers.static import MAX_CONCAT
    from rnnedge.tflm_tail import kind_tail
    total = 0
    for steps, hidden, cell in passes:
        if cell not in ("tanh", "relu"):
            raise ValueError(f"the TFLM floor counts tanh and relu cells, not {cell!r}")
        w_hh = kind_tail(step_op, hidden)   # also W_ih's op
        total += (steps - 1) * (w_hh + kind_tail("ADD"))
        total += steps * kind_tail("TANH") if cell == "tanh" else 0
        joins = -(-(steps - 1) // (MAX_CONCAT - 1))
        total += w_hh + kind_tail("ADD") + joins * kind_tail("CONCATENATION")
    return total


def twin_head_tail(crnn_path, twin_path):
    """(ops, tail bytes) of the twin's own head: its ops whose outputs no CRNN tensor is
    named after, with the eval tensors of the constants only those ops read."""
    from rnnedge.tflite import read_model
    from rnnedge.tflm_tail import EVAL_TENSOR, op_tail
    crnn, twin = read_model(crnn_path).main, read_model(twin_path).main
    names = {t.name for t in crnn.tensors}
    head = [op for op in twin.operators if twin.tensors[op.outputs[0]].name not in names]
    readers = {}
    for op in twin.operators:
        for i in op.inputs:
            if i >= 0:
                readers.setdefault(i, set()).add(id(op))
    own = {id(op) for op in head}
    constants = {i for op in head for i in op.inputs
                 if i >= 0 and twin.tensors[i].is_constant and readers[i] <= own}
    return len(head), sum(op_tail(twin, op) for op in head) + EVAL_TENSOR * len(constants)


def reversal_tail(passes):
    """The least TFLM tail bytes of what a weight-shared pass of T steps adds to
    `recurrence_tail` on the ops Vela places on the U55's NPU (no REVERSE_V2 there): the
    steps' T slices of the projection as T tensors (one SPLIT), and the backward direction's
    inputs in reverse order and its outputs back in order, each a SPLIT into T rows and
    ceil((T - 1) / 9) CONCATENATIONs (the cheapest reversal of the three layouts built:
    "inplace" pairs rows with one CONCATENATION a step, "pairs" adds one ADD a step)."""
    from rnnedge.layers.static import MAX_CONCAT
    from rnnedge.tflm_tail import EVAL_TENSOR, kind_tail
    total = 0
    for steps, _, _ in passes:
        split = kind_tail("SPLIT") + EVAL_TENSOR * (steps - 1)
        joins = -(-(steps - 1) // (MAX_CONCAT - 1))
        total += split + 2 * (split + joins * kind_tail("CONCATENATION"))
    return total


def recurrent_layer_tail(crnn_path, scopes):
    """Estimated TFLM tail (rnnedge.tflm_tail) of the CRNN's recurrent layers: its ops whose
    output names lie in one of `scopes` (rnnedge.export.pipeline.rnn_scopes), with the eval
    tensors of the constants only those ops read."""
    from rnnedge.tflite import read_model
    from rnnedge.tflm_tail import EVAL_TENSOR, op_tail
    sg = read_model(crnn_path).main
    layer = [op for op in sg.operators
             if any(s in sg.tensors[op.outputs[0]].name for s in scopes)]
    own = {id(op) for op in layer}
    readers = {}
    for op in sg.operators:
        for i in op.inputs:
            if i >= 0:
                readers.setdefault(i, set()).add(id(op))
    constants = {i for op in layer for i in op.inputs
                 if i >= 0 and sg.tensors[i].is_constant and readers[i] <= own}
    return sum(op_tail(sg, op) for op in layer) + EVAL_TENSOR * len(constants)


def tflm_floor(crnn_path, twin_path, passes, crnn_tflm, twin_tflm, ratio=1.1, scopes=()):
    """The TFLM head + tail check of one pair (module docstring): measured figures (TFLM's
    {"head", "tail"} of each), the target, the floors with CONV_2D and with per-tensor
    FULLY_CONNECTED steps, and the distance of the CRNN to the target. With the recurrent
    layers' `scopes`, two tighter FC floors: "floor_fc_own" keeps the CRNN's own ops outside
    its recurrent layers as measured (its classifier or detection heads, which the twin's
    share does not count) and "floor_fc_reversed" adds `reversal_tail`."""
    twin_total = twin_tflm["head"] + twin_tflm["tail"]
    head_ops, head_tail = twin_head_tail(crnn_path, twin_path)
    shared = twin_tflm["tail"] - head_tail
    head = min(crnn_tflm["head"], twin_tflm["head"])
    out = {"crnn": crnn_tflm["head"] + crnn_tflm["tail"], "crnn_head": crnn_tflm["head"],
           "crnn_tail": crnn_tflm["tail"], "twin": twin_total, "twin_tail": twin_tflm["tail"],
           "target": ratio * twin_total, "twin_head_ops": head_ops, "twin_head_tail": head_tail,
           "shared_tail": shared, "steps": sum(t - 1 for t, _, _ in passes),
           "passes": len(passes)}
    for op in ("CONV_2D", "FULLY_CONNECTED"):
        key = "conv" if op == "CONV_2D" else "fc"
        out[f"recurrence_{key}"] = recurrence_tail(passes, op)
        out[f"floor_{key}"] = head + shared + out[f"recurrence_{key}"]
    if scopes:
        rest = crnn_tflm["tail"] - recurrent_layer_tail(crnn_path, scopes)
        out["floor_fc_own"] = head + rest + out["recurrence_fc"]
        out["reversals"] = reversal_tail(passes)
        out["floor_fc_reversed"] = out["floor_fc_own"] + out["reversals"]
    out["fc_steps_estimate"] = out["crnn"] - fc_saving(crnn_path, twin_path)
    out["distance"] = out["crnn"] - out["target"]
    out["reachable"] = min(out["floor_conv"], out.get("floor_fc_reversed", out["floor_fc"])) \
        <= out["target"]
    return out


def fc_saving(crnn_path, twin_path):
    """Tail bytes the CRNN would save if every 1x1 CONV_2D of its head (ops the twin has no
    output of) were a per-tensor FULLY_CONNECTED (rnnedge.tflm_tail's measured size, no
    per-channel arrays): 0 on an export with FC steps already (module docstring)."""
    from rnnedge.tflite import read_model
    from rnnedge.tflm_tail import kind_tail, op_tail
    crnn, twin = read_model(crnn_path).main, read_model(twin_path).main
    names = {t.name for t in twin.tensors}
    saving = 0
    for op in crnn.operators:
        if (op.opcode == "CONV_2D" and crnn.tensors[op.outputs[0]].name not in names
                and tuple(crnn.tensors[op.inputs[1]].shape[1:3]) == (1, 1)):
            saving += op_tail(crnn, op) - kind_tail("FULLY_CONNECTED")
    return saving


def tflm_table(reports):
    """Markdown: the TFLM head + tail check of every pair in `reports` (TFLM measures each
    export, rnnedge.tflm_probe), with the floors of `tflm_floor`."""
    from rnnedge import zoo
    from rnnedge.tflm_probe import measure_tflm
    from rnnedge.export.pipeline import rnn_scopes
    rows = ["| CRNN | TFLM head + tail B (x twin) | target 1.1 x twin | floor, CONV_2D steps (x) "
            "| floor, per-tensor FC steps (x) | FC floor with the CRNN's own other ops (x) "
            "| + the reversals (x) | FC steps, estimate (x) | distance to target |",
            "|---|---|---|---|---|---|---|---|---|"]
    for crnn, twin in TWINS.items():
        pair = [reports.get(crnn), reports.get(twin)]
        if any(r is None or "error" in r for r in pair):
            continue
        model = zoo.build(crnn).eval()
        passes = recurrent_passes(model, zoo.get(crnn).input_shape)
        f = tflm_floor(pair[0]["output"], pair[1]["output"], passes,
                       measure_tflm(pair[0]["output"]), measure_tflm(pair[1]["output"]),
                       scopes=rnn_scopes(model))
        pair[0]["tflm_floor"] = f   # into benchmarks/export.py's JSON report

        def x(value, twin_total=f["twin"]):
            return f"{value:,.0f} ({value / twin_total:.3f})"
        rows.append(f"| {crnn} | {x(f['crnn'])} | {f['target']:,.0f} | {x(f['floor_conv'])} | "
                    f"{x(f['floor_fc'])} | {x(f['floor_fc_own'])} | {x(f['floor_fc_reversed'])} | "
                    f"{x(f['fc_steps_estimate'])} | "
                    f"{f['distance']:+,.0f} B |")
    return "\n".join(rows)
