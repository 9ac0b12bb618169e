"""Per-layer summary of a zoo model: the table's rows with shapes, parameters, MACs and the
paper's figures side by side.

`summarize(name, **kwargs)` builds the model, runs one forward pass with hooks on every table
row to record input and output shapes, counts parameters both ways (`accounting`) and MACs
with the paper's formulas, and returns a `Summary`. Formatting (text and JSON) is here too so
the CLI stays thin. Imports: `rnnedge.accounting`, `rnnedge.zoo`.
"""

from dataclasses import dataclass, field

from rnnedge import accounting, zoo


@dataclass
class RowSummary:
    """One table row of a model."""

    name: str
    type: str
    input_shape: list
    output_shape: list
    params: int  # read from the module
    formula_params: int  # from the paper's formulas
    macs: int
    paper_params: int | None

    @property
    def match(self):
        """True/False against the paper's count; None where the paper prints none."""
        return None if self.paper_params is None else self.params == self.paper_params


@dataclass
class Summary:
    """A model's rows and totals, with the paper's stated total beside them."""

    model: str
    input_shape: list
    rows: list = field(default_factory=list)
    input_format: str = "rgb"
    sensor_rows: dict = field(default_factory=dict)  # row: the RGB model's params (paper row)

    @property
    def total_params(self):
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self):
        return sum(r.macs for r in self.rows)

    def to_json(self):
        """The `--json` object (schema in README)."""
        entry = zoo.get(self.model)
        stated, where = entry.stated_total
        return {
            "model": self.model,
            "input_shape": self.input_shape,
            "layers": [{"name": r.name, "type": r.type, "input_shape": r.input_shape,
                        "output_shape": r.output_shape, "params": r.params, "formula_params": r.formula_params,
                        "macs": r.macs, "paper_params": r.paper_params, "match": r.match} for r in self.rows],
            "total_params": self.total_params,
            "input_format": self.input_format,
            "sensor_rows": [{"name": row, "params": next(r.params for r in self.rows
                                                         if r.name == row),
                             "rgb_params": rgb} for row, rgb in self.sensor_rows.items()],
            "total_macs": self.total_macs,
            "paper_rows_total": entry.paper_rows_total,
            "paper_stated_total": {"value": stated, "table": where},
        }


_FAMILY_TYPES = (("ReSegBlock", "ReSeg"), ("ReNet", "ReNet"), ("DSRNN", "DS-RNN"), ("RNN2D", "RNN2D"),
                 ("ScaleRecurrence", "Scale-RNN"), ("RowRNN", "LSTM"), ("FeatureMapping", "Mapping"),
                 ("BasicBlock", "BasicBlock"))


def _type_name(module):
    """The row's layer type as the tables name it."""
    kind = type(module).__name__
    inner = [type(m).__name__ for m in module.modules()]
    if "SWSBiRNN" in inner:
        return "SWS-BiRNN"
    for cls, name in _FAMILY_TYPES:
        if cls in inner:
            return name
    if "InvRes" in inner:
        return "InvRes"
    if "BasicBlock" in inner:
        return "BasicBlock"
    if kind == "BatchNorm2d":
        return "BatchNorm"
    if kind in ("AdaptiveAvgPool2d", "AvgPool2d"):
        return "AvgPool"
    if kind == "Linear":
        return "FC"
    return "Conv2D"


def summarize(name, input_hw=None, input_format="rgb", **kwargs):
    """Build zoo model `name` (kwargs select alternative readings) and summarise its rows, at
    the zoo's input size or `input_hw` (H, W) (detectors: parameters stay, MACs change), for
    camera format `input_format` (rnnedge.sensor): the rows whose parameters the folded
    demosaic changes are reported apart (`sensor_rows`), not matched against the paper's
    RGB figures."""
    entry = zoo.get(name)
    channels, height, width = zoo.input_shape(name, input_format)
    input_shape = (channels, height, width) if input_hw is None else (channels, *input_hw)
    model = zoo.build(name, input_format=input_format, **kwargs)
    rgb_params = {}
    if input_format != "rgb":
        rgb_params = {row: accounting.module_params(module)
                      for row, module in zoo.build(name, **kwargs).table_rows()}
    rows = model.table_rows()
    shapes = {}
    hooks = [module.register_forward_hook(
        lambda m, i, o, row=row: shapes.__setitem__(row, (list(i[0].shape[1:]), list(o.shape[1:]))))
        for row, module in rows]
    try:
        macs = accounting.count_macs(model, input_shape)
    finally:
        for handle in hooks:
            handle.remove()
    summary = Summary(name, list(input_shape), input_format=input_format)
    paper = entry.paper_row_params
    for row, module in rows:
        row_macs = sum(v for m, v in macs.items() if any(m is sub for sub in module.modules()))
        in_shape, out_shape = shapes[row]
        params = accounting.module_params(module)
        paper_row = paper.get(row)
        if row in rgb_params and rgb_params[row] != params:
            summary.sensor_rows[row] = paper_row if paper_row is not None else rgb_params[row]
            paper_row = None
        summary.rows.append(RowSummary(row, _type_name(module), _hwc(in_shape), _hwc(out_shape),
                                       params, accounting.formula_params(module),
                                       row_macs, paper_row))
    return summary


def _hwc(chw):
    """Shapes are printed H x W x C, as the paper's tables do."""
    return [chw[1], chw[2], chw[0]] if len(chw) == 3 else chw


def format_table(summary):
    """A fixed-width text table of the summary, with a totals block."""
    header = f"{'row':<10} {'type':<11} {'input':>13} {'output':>13} {'params':>9} {'MACs':>13} {'paper':>9}  ok"
    lines = [f"{summary.model}  input {'x'.join(map(str, _hwc(summary.input_shape)))} (HxWxC)", header,
             "-" * len(header)]
    mark = {True: "yes", False: "NO", None: "-"}
    for r in summary.rows:
        paper = "-" if r.paper_params is None else f"{r.paper_params:,}"
        lines.append(f"{r.name:<10} {r.type:<11} {'x'.join(map(str, r.input_shape)):>13} "
                     f"{'x'.join(map(str, r.output_shape)):>13} {r.params:>9,} {r.macs:>13,} {paper:>9}  {mark[r.match]}")
    entry = zoo.get(summary.model)
    stated, where = entry.stated_total
    lines.append("-" * len(header))
    rows_total = f"sum of the paper's rows {entry.paper_rows_total:,}; " if entry.paper_row_params else ""
    paper = f"{where} states {stated}" if stated != "-" else "the paper states no total"
    lines.append(f"total params {summary.total_params:,} ({rows_total}{paper})")
    lines.append(f"total MACs   {summary.total_macs:,} (eq. 17 for Conv2D/FC, eq. 18 x2 for SWS-BiRNN, "
                 f"additions counted)")
    for row, rgb in summary.sensor_rows.items():
        params = next(r.params for r in summary.rows if r.name == row)
        how = "demosaic folded in" if summary.input_format.startswith("bayer") else "gray"
        lines.append(f"input stage ({summary.input_format}): row {row} reads the sensor's "
                     f"1-channel tensor ({how}): {params:,} params (the paper's RGB row: "
                     f"{rgb:,}; {params - rgb:+,})")
    return "\n".join(lines)
