"""Emit a compiled Program as standalone C99 firmware.

`write_firmware(program, directory, kernels=None)` writes:
  model.h / model.c   the weights as `const` arrays ("flash"), every kernel's params struct as
                      a `static const` initialiser (the exact integers the host runtime used),
                      the arena as one static buffer of the planned size, the row scratch when
                      the program needs one, the variable tensors (recurrent state) in their own
                      static buffer, `rn_model_reset()` (sets them as TFLM's Reset does) and
                      `rn_model_invoke()`: the program's kernel calls in order; each other
                      subgraph (control flow) a `static int rn_subgraph_N(void)` that its
                      WHILE / IF / CALL_ONCE step calls as TFLM's kernels do (control.py).
  main.c              reads input samples (raw bytes, back to back) from argv[1] or stdin,
                      runs each, and writes the raw output bytes to argv[2] or stdout; the
                      state is reset once at start and carried from sample to sample, as
                      successive TFLM invocations carry it.
  kernels/            the kernel C sources the program calls, with their headers: those of
                      kernel set `kernels` ("optimized", the default, puts each optimized/
                      file in its reference namesake's place, as TFLM's cmsis_nn/ does;
                      "reference": the readable ones).
  startup_cortex_m.c, cortex_m.ld
                      a minimal Cortex-M vector table and a linker script for the Arm MPS3
                      AN547 memory map (newlib semihosting, `--specs=rdimon.specs`).
  Makefile            `make` (host, cc -std=c99 -Wall -Wextra -Werror), `make m55`, `make m4`,
                      `make m7`.
Since the host runtime executes the same Program, the firmware computes the same bytes.
The fixed text (main.c, model.h, the start-up code, the linker script, the Makefile) lives
in templates/ as files, with @KEY@ placeholders; the flags are rnnedge.kernels.cflags.

Imports numpy, ctypes, re, the standard library, rnnedge.errors, rnnedge.files,
rnnedge.kernels.build (source locations), rnnedge.kernels.cflags, rnnedge.kernels.structs
(LUT sizes) and this package's program module.
"""

import ctypes
import os
import re
from pathlib import Path

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_directory, atomic_write
from rnnedge.firmware_sim.program import Program
from rnnedge.kernels import build, cflags
from rnnedge.kernels.structs import INT16_LUT_SIZE, SIGMOID_LUT_SIZE

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: the SRAM region of templates/cortex_m.ld, which holds the arena, per Cortex-M target
TARGET_RAM = {"m55": 4 << 20, "m4": 4 << 20, "m7": 4 << 20}
_C_TYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t",
            np.dtype(np.float32): "float", np.dtype(np.uint8): "uint8_t",
            np.dtype(np.int16): "int16_t", np.dtype(np.int64): "int64_t",
            np.dtype(np.bool_): "int8_t"}
_BASES = {"arena": "rn_arena.bytes", "scratch": "rn_scratch.bytes",
          "variable": "rn_variables.bytes"}


def _entry_table(kernels: str | None = None) -> tuple:
    """({entry: params struct type}, {entry: source file}) read from the kernel sources of
    kernel set `kernels` (default: rnnedge.kernels.kernel_set())."""
    from rnnedge.kernels import kernel_set

    header = (build.INCLUDE_DIR / "rnnedge_kernels.h").read_text()
    types = dict(re.findall(r"int\s+(rn_\w+)\s*\(\s*const\s+(\w+)\s*\*", header))
    files = {}
    for path in build.sources(kernel_set(kernels)):
        for entry in re.findall(r"^int\s+(rn_\w+)\s*\(", path.read_text(), re.M):
            files[entry] = path
    return types, files


def _number(value, ctype) -> str:
    """A C literal for a scalar params field (floats as exact hex literals)."""
    if ctype is ctypes.c_float:
        return f"{float(value).hex()}f" if np.isfinite(value) else "0.0f"
    if ctype is ctypes.c_double:
        return float(value).hex()
    return str(int(value))


def _comment(text: str, limit: int = 80) -> str:
    """`text` made safe inside a C block comment: printable ASCII, no `*/` (ends it) and no
    `/*` (-Werror=comment), shortened."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    clean = clean.replace("*/", "*?").replace("/*", "/?")
    return clean if len(clean) <= limit else clean[:limit - 3] + "..."


def _wrap(parts: list, indent: str = "    ", width: int = 96) -> str:
    """`parts` joined by ", " over lines of at most `width` characters."""
    lines, line = [], indent
    for i, part in enumerate(parts):
        piece = part + ("," if i < len(parts) - 1 else "")
        if len(line) + len(piece) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece + " "
    lines.append(line.rstrip())
    return "\n".join(lines)


def _literals(values) -> list:
    """Array values as C literals: integers, or floats as exact hex literals (a float
    constant a subgraph copies, e.g. a resource variable's initial value)."""
    if values.dtype.kind == "f":
        return [_number(v, ctypes.c_float) for v in values.tolist()]
    return values.tolist()


def _array_text(values, per_line: int = 16) -> str:
    """A C array initialiser, `per_line` values per line."""
    items = [str(int(v)) if not isinstance(v, str) else v for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "{\n  " + ",\n  ".join(lines) + "\n}" if items else "{0}"


class _Emitter:
    """Collects the C declarations of one program."""

    def __init__(self, program: Program, kernels: str | None = None):
        """Start with no declarations; read the kernel entry table of kernel set `kernels`."""
        self.program = program
        self.types, self.files = _entry_table(kernels)
        self.decls: list[str] = []
        self.names: dict = {}
        self.entries: set = set()

    def _declare(self, key, prefix: str, text_fn) -> str:
        """The name of the declaration for `key`, emitting it on first use."""
        if key not in self.names:
            name = f"{prefix}{len(self.names)}"
            self.names[key] = name
            self.decls.append(text_fn(name))
        return self.names[key]

    def constant(self, index: int) -> str:
        """The name of flash constant `index` as a `static const` array."""
        c = self.program.constants[index]
        ctype = _C_TYPES[c.data.dtype]
        values = c.data.reshape(-1)
        return self._declare(("const", index), "w", lambda name: (
            f"/* {_comment(c.name)}: {list(c.data.shape)} {c.data.dtype} */\n"
            f"static const {ctype} {name}[{max(values.size, 1)}] = "
            f"{_array_text(_literals(values))};"))

    def pointer_array(self, values: list, ctype: str = "int32_t") -> str:
        """The name of a `static const` array of `ctype` (int32_t, int16_t) holding `values`."""
        return self._declare((ctype, tuple(values)), "t", lambda name: (
            f"static const {ctype} {name}[{max(len(values), 1)}] = {_array_text(values)};"))

    def initializer(self, struct) -> str:
        """A C99 designated initialiser for a ctypes params struct."""
        parts = []
        for field, ftype in struct._fields_:
            value = getattr(struct, field)
            if isinstance(value, ctypes.Structure):
                text = self.initializer(value)
            elif isinstance(value, ctypes.Array):
                text = "{" + ", ".join(_number(v, ftype._type_) for v in value) + "}"
            elif hasattr(ftype, "contents"):
                text = self._pointer_field(struct, field, value)
            else:
                text = _number(value, ftype)
            parts.append(f".{field} = {text}")
        return "{\n" + _wrap(parts) + "\n}"

    def _pointer_field(self, struct, field, pointer) -> str:
        """A params pointer field: its int32 array, whose length the struct itself gives."""
        if not pointer:
            return "NULL"
        if field in ("output_multiplier", "output_shift"):
            n = struct.output_depth if getattr(struct, "per_channel", 1) else 1
        elif field == "copy_sizes":
            n = getattr(struct, "num_inputs", 0) or getattr(struct, "num_outputs", 0)
        elif field == "sigmoid_lut":  # the int16 TANH / LOGISTIC table
            return self.pointer_array([int(pointer[i]) for i in range(SIGMOID_LUT_SIZE)],
                                      "uint16_t")
        elif field.endswith("_lut"):  # the int16 SOFTMAX tables
            return self.pointer_array([int(pointer[i]) for i in range(INT16_LUT_SIZE)],
                                      "int16_t")
        else:
            raise RnnedgeError(f"code generation does not know the length of params field "
                               f"{field}")
        return self.pointer_array([int(pointer[i]) for i in range(n)])

    def params(self, entry: str, struct) -> str:
        """The name of the `static const` params struct of one call."""
        if entry not in self.types:
            raise RnnedgeError(f"kernel entry {entry} is not declared in rnnedge_kernels.h")
        key = ("params", self.types[entry], bytes(struct))
        text = self.initializer(struct)
        return self._declare(key, "p", lambda name: (
            f"static const {self.types[entry]} {name} = {text};"))

    def arg(self, ref, mutable: bool) -> str:
        """The C expression for one call argument (`mutable`: the output)."""
        if isinstance(ref, tuple):
            items = [self.arg(r, mutable) for r in ref]
            ctype = "int8_t *const" if mutable else "const int8_t *const"
            return self._declare(("ptrs", ref, mutable), "a", lambda name: (
                f"static {ctype} {name}[{len(items)}] = {{{', '.join(items)}}};"))
        if ref.space == "null":
            return "NULL"
        if ref.space == "flash":  # cast when a byte copy reads an int32 / float constant
            name = self.constant(ref.offset)
            if _C_TYPES[self.program.constants[ref.offset].data.dtype] == ref.ctype:
                return name
            return f"((const {ref.ctype} *)(const void *){name})"
        if ref.space == "input":
            return f"rn_input_source({ref.offset}, {ref.nbytes})"
        base = _BASES[ref.space]
        if ref.ctype == "int8_t":
            return f"({base} + {ref.offset})"
        return f"(({ref.ctype} *)(void *)({base} + {ref.offset}))"


def _calls(calls, number: int, em: _Emitter, indent: str = "  ") -> list:
    """C lines calling each kernel of `calls`; a failure returns `number`."""
    lines = []
    for call in calls:
        em.entries.add(call.entry)
        params = em.params(call.entry, call.params)
        n_args = len(call.args)
        args = [em.arg(a, mutable=i == n_args - 1) for i, a in enumerate(call.args)]
        lines.append(f"{indent}if ({call.entry}(&{params}, {', '.join(args)}) != RN_OK) "
                     f"return {number};")
    return lines


def _control(control, number: int, em: _Emitter) -> list:
    """C lines of a WHILE / IF / CALL_ONCE step (control.py's phases, TFLM's order)."""
    def run(index, indent):
        return [f"{indent}if (rn_subgraph_{index}() != 0) return {number};"]

    def copy(phase, indent):
        return _calls(control.calls(phase), number, em, indent)
    if control.opcode == "CALL_ONCE":
        return [f"  if (!rn_once[{control.flag}]) {{", *run(control.subgraphs[0], "    "),
                f"    rn_once[{control.flag}] = 1;", "  }"]
    condition = f"(*(const volatile int8_t *){em.arg(control.condition, False)} != 0)"
    if control.opcode == "IF":
        then, other = control.subgraphs
        return [f"  if {condition} {{", *copy("then_in", "    "), *run(then, "    "),
                *copy("then_out", "    "), "  } else {", *copy("else_in", "    "),
                *run(other, "    "), *copy("else_out", "    "), "  }"]
    cond, body = control.subgraphs
    return [*copy("enter_cond", "  "), *copy("keep", "  "), *run(cond, "  "),
            f"  while {condition} {{", *copy("to_body", "    "), *run(body, "    "),
            *copy("from_body", "    "), *copy("to_cond", "    "), *run(cond, "    "), "  }"]


def _steps(steps, em: _Emitter) -> list:
    """C lines of a list of steps (step k returns k on failure)."""
    body = []
    for number, step in enumerate(steps, start=1):
        macs = "" if step.macs is None else f", {step.macs} MACs"
        body.append(f"  /* step {number}: {_comment(step.name)}{macs} */")
        body.extend(_calls(step.calls, number, em))
        if step.control is not None:
            body.extend(_control(step.control, number, em))
    return body


def _model_c(program: Program, em: _Emitter) -> str:
    """The text of model.c."""
    body = _steps(program.steps, em)
    subgraphs = [f"static int rn_subgraph_{index}(void);" for index in program.subgraphs]
    for index, steps in program.subgraphs.items():
        subgraphs += ["", f"/* subgraph {index} */", f"static int rn_subgraph_{index}(void) {{",
                      *_steps(steps, em), "  return 0;", "}"]
    once = [f"static int8_t rn_once[{program.once_flags}]; /* CALL_ONCE: has run */"] \
        if program.once_flags else []
    scratch = (f"static union {{ int8_t bytes[{program.scratch}]; int64_t align_; }} "
               "rn_scratch;\n" if program.scratch else "")
    variables = (f"static union {{ int8_t bytes[{program.variable_bytes}]; int64_t align_; }} "
                 "rn_variables;\n" if program.variables else "")
    resets = [f"  memset(rn_variables.bytes + {v.offset}, {v.fill}, {v.nbytes}); "
              f"/* {_comment(v.name)} */" for v in program.variables]
    streamed = max([p.nbytes for p in program.inputs if p.streamed], default=0)
    source = [] if not streamed else [
        "/* The streamed graph input (fused plan, --stream-input): not in the arena. The",
        "   model pulls each input row through rn_input_source(offset, bytes), which by",
        "   default reads rn_stream (filled by the caller as a whole input); point it at the",
        "   camera's line buffer to stream the image. */",
        f"static union {{ int8_t bytes[{streamed}]; int64_t align_; }} rn_stream;",
        "static const int8_t *rn_stream_rows(size_t offset, size_t bytes) {",
        "  (void)bytes;", "  return rn_stream.bytes + offset;", "}",
        "const int8_t *(*rn_input_source)(size_t offset, size_t bytes) = rn_stream_rows;"]
    ports = []
    for kind, items in (("input", program.inputs), ("output", program.outputs)):
        rows = ", ".join(("{rn_stream.bytes, " if p.streamed else
                          f"{{rn_arena.bytes + {p.offset}, ") + f"{p.nbytes}}}" for p in items)
        ports.append(f"static const rn_port rn_{kind}s[{len(items)}] = {{{rows}}};")
    return "\n".join([
        "/* Generated by `rnnedge firmware`: one quantised model, one static arena. */",
        "#include <stddef.h>", "#include <stdint.h>", "#include <string.h>", "",
        '#include "kernels/include/rnnedge_kernels.h"', '#include "model.h"', "",
        f"/* The arena: {program.arena} bytes laid out by the `{program.plan.planner}` plan. */",
        f"static union {{ int8_t bytes[{max(program.arena, 1)}]; int64_t align_; }} rn_arena;",
        scratch, *source,
        "/* The variable tensors (recurrent state), kept across invocations. */" if variables
        else "", variables,
        *em.decls, *once, *subgraphs, "",
        "typedef struct { int8_t *data; size_t bytes; } rn_port;",
        *ports, "",
        "void *rn_model_input(int i) { return rn_inputs[i].data; }",
        "size_t rn_model_input_bytes(int i) { return rn_inputs[i].bytes; }",
        "const void *rn_model_output(int i) { return rn_outputs[i].data; }",
        "size_t rn_model_output_bytes(int i) { return rn_outputs[i].bytes; }", "",
        "void rn_model_reset(void) {", *resets, "}", "",
        "int rn_model_invoke(void) {", *body, "  return 0;", "}", ""])


def _model_h(program: Program) -> str:
    """The text of model.h."""
    return _template("model.h", ARENA_BYTES=program.arena, SCRATCH_BYTES=program.scratch,
                     INPUTS=len(program.inputs), OUTPUTS=len(program.outputs))


def _template(name: str, **values) -> str:
    """The text of templates/`name` with every @KEY@ replaced by values["KEY"]."""
    text = (TEMPLATES / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    return text


def _makefile(sources: list) -> str:
    """The text of the Makefile for the given kernel sources."""
    return _template("Makefile.in", HOST_FLAGS=" ".join(cflags.COMMON),
                     ARM_FLAGS=" ".join(cflags.COMMON + cflags.ARM),
                     M55_FLAGS=" ".join(cflags.CPU["m55"]), M4_FLAGS=" ".join(cflags.CPU["m4"]),
                     M7_FLAGS=" ".join(cflags.CPU["m7"]),
                     ARM_LINK_FLAGS=" ".join(cflags.ARM_LINK), KERNEL_SOURCES=" ".join(sources))


def generate(program: Program, kernels: str | None = None) -> dict:
    """{relative path: text} of the firmware sources of `program` on kernel set `kernels`."""
    em = _Emitter(program, kernels)
    model_c = _model_c(program, em)
    needed = sorted({em.files[e] for e in em.entries if e in em.files},
                    key=lambda p: p.name)
    missing = sorted(e for e in em.entries if e not in em.files)
    if missing:
        raise RnnedgeError(f"no kernel source defines {', '.join(missing)}")
    files = {"model.c": model_c, "model.h": _model_h(program), "main.c": _template("main.c"),
             "startup_cortex_m.c": _template("startup_cortex_m.c"),
             "cortex_m.ld": _template("cortex_m.ld"),
             "Makefile": _makefile([f"kernels/{p.name}" for p in needed])}
    for path in needed:
        files[f"kernels/{path.name}"] = path.read_text()
    for path in build.headers():
        files[f"kernels/include/{path.name}"] = path.read_text()
    return files


def write_firmware(program: Program, directory, kernels: str | None = None) -> list:
    """Write the firmware sources (kernel set `kernels`) into `directory`. Returns the
    written paths.

    A new directory appears whole or not at all (built beside it, then renamed); in an
    existing one each file is replaced through a temporary file and a rename, and files of
    the user's that the firmware does not name are left alone.
    """
    files = generate(program, kernels)
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        with atomic_directory(directory) as tmp:
            _write_files(tmp, files)
    else:
        _write_files(directory, files)
    return [os.path.join(directory, rel) for rel in sorted(files)]


def _write_files(directory, files):
    for rel, text in sorted(files.items()):
        path = os.path.join(directory, rel)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            raise RnnedgeError(f"cannot write {path}: {exc.strerror or exc}") from None
        atomic_write(path, text)

