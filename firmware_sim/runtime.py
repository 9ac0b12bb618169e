"""Run a compiled Program on the host the way the firmware runs it.

One static numpy uint8 buffer holds the whole arena (exactly `Program.arena` bytes) between
two guard zones; every activation is a view into it; the flash constants, the row
scratch and a streamed input (the input source of a fused plan) are separate buffers, as on
a device. All kernel pointers are bound once in
`Runtime.__init__`, so an inference allocates nothing: it copies the input bytes in, calls
the C kernels in order, and copies the output bytes out. The variable tensors (LSTM / SVDF
state, resource variables) live in their own buffer, kept across invocations until
`reset()`, as TFLM keeps them. A control-flow step runs its subgraphs' steps as TFLM's
WHILE / IF / CALL_ONCE kernels do (control.py), its copies bound once like every call.

Debug mode (`debug=True`) proves a plan safe while it runs: before the first step the arena
is poisoned; after every step it checks the guard bytes, verifies that every tensor still to
be read holds the bytes it was written with (CRC32), and poisons the bytes of each tensor
that dies there (except bytes another live tensor shares). A violation raises RnnedgeError
naming the step (inside a subgraph, the guard bytes are checked after every step). Per-step
counters (subgraph 0's steps; a control-flow step includes its subgraphs): MACs
(rnnedge.op_table's convention) and wall time.

Imports numpy, ctypes, zlib, time, rnnedge.errors, rnnedge.kernels and this package's program
module.
"""

import ctypes
import time
import zlib

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.program import Program, Ref

GUARD = 64  # bytes on each side of the arena
#: a WHILE whose condition has not turned false after this many iterations is refused (the
#: host tool must not hang on a hostile model; TFLM and the generated firmware loop on)
MAX_WHILE_ITERATIONS = 1 << 20
GUARD_BYTE = 0xC5
POISON_BYTE = 0xA5
_PTR = {"int8_t": ctypes.POINTER(ctypes.c_int8), "float": ctypes.POINTER(ctypes.c_float),
        "int32_t": ctypes.POINTER(ctypes.c_int32), "int16_t": ctypes.POINTER(ctypes.c_int16),
        "int64_t": ctypes.POINTER(ctypes.c_int64)}


class Runtime:
    """A Program bound to one static arena (see module docstring)."""

    def __init__(self, program: Program, lib=None, debug: bool = False):
        """Allocate the arena (+ guards) and row scratch, and bind every call once."""
        if lib is None:
            from rnnedge.kernels import load
            lib = load()
        self.program, self.debug = program, debug
        self._memory = np.full(program.arena + 2 * GUARD, GUARD_BYTE, dtype=np.uint8)
        self.arena = self._memory[GUARD:GUARD + program.arena]
        self._scratch = np.zeros(max(program.scratch, 1), dtype=np.uint8)
        self._variables = np.zeros(max(program.variable_bytes, 1), dtype=np.uint8)
        self.reset()
        streamed = [p for p in program.inputs if p.streamed]  # pulled row by row (fused.py)
        self._stream = np.zeros(max([p.nbytes for p in streamed] + [1]), dtype=np.uint8)
        self._lib = lib
        self._once = [False] * program.once_flags  # CALL_ONCE: set on its first run only
        self._calls = [self._bind_step(step) for step in program.steps]
        self._subgraphs = {index: [self._bind_step(step) for step in steps]
                           for index, steps in program.subgraphs.items()}
        self.inputs = [self._stream[:p.nbytes].view(p.dtype).reshape(p.shape) if p.streamed
                       else self._view(p.offset, p.shape, p.dtype) for p in program.inputs]
        self.outputs = [self._view(p.offset, p.shape, p.dtype) for p in program.outputs]
        self.step_ns = np.zeros(len(program.steps), dtype=np.int64)
        self.invocations = 0
        if debug:
            self._prepare_debug()

    # -- binding --------------------------------------------------------------------------
    def _view(self, offset: int, shape, dtype) -> np.ndarray:
        """A typed view of `shape` at byte `offset` of the arena."""
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        return self.arena[offset:offset + nbytes].view(dtype).reshape(shape)

    def _address(self, ref: Ref) -> int:
        """The absolute address a Ref points to (arena refs are bounds-checked)."""
        if ref.space == "arena":
            if ref.offset < 0 or ref.offset + ref.nbytes > self.program.arena:
                raise RnnedgeError(f"a kernel argument [{ref.offset}, "
                                   f"{ref.offset + ref.nbytes}) lies outside the arena")
            return self.arena.ctypes.data + ref.offset
        if ref.space == "scratch":
            return self._scratch.ctypes.data + ref.offset
        if ref.space == "variable":
            return self._variables.ctypes.data + ref.offset
        if ref.space == "input":
            if ref.offset < 0 or ref.offset + ref.nbytes > self._stream.size:
                raise RnnedgeError("a streamed input row lies outside the input")
            return self._stream.ctypes.data + ref.offset
        return self.program.constants[ref.offset].data.ctypes.data

    def _bind_calls(self, calls) -> list:
        """[(function, params, args)] of `calls`, bound once."""
        return [(getattr(self._lib, c.entry), ctypes.byref(c.params),
                 [self._bind(a) for a in c.args]) for c in calls]

    def _bind_step(self, step):
        """(bound calls, bound control or None) of one step."""
        control = step.control
        if control is None:
            return self._bind_calls(step.calls), None
        phases = {name: self._bind_calls(calls) for name, calls in control.phases}
        condition = None if control.condition is None else \
            ctypes.c_int8.from_address(self._address(control.condition))
        return self._bind_calls(step.calls), (control, phases, condition)

    def _bind(self, arg):
        """The ctypes argument for a Ref (or a pointer array for a tuple of Refs)."""
        if isinstance(arg, tuple):
            pointers = [ctypes.cast(self._address(r), _PTR["int8_t"]) for r in arg]
            return (_PTR["int8_t"] * len(arg))(*pointers)
        if arg.space == "null":
            return None
        return ctypes.cast(self._address(arg), _PTR[arg.ctype])

    # -- running --------------------------------------------------------------------------
    def reset(self) -> None:
        """Reset the variable tensors (recurrent state) as TFLM's MicroInterpreter::Reset
        does: every byte to the int8 zero point, or 0. The state is otherwise kept across
        invocations; a new Runtime starts reset, as TFLM's AllocateTensors does."""
        for v in self.program.variables:
            self._variables[v.offset:v.offset + v.nbytes] = v.fill

    def invoke(self, *inputs) -> list:
        """Run one inference on `inputs` (one array per graph input, the model's shape and
        dtype) and return copies of the outputs."""
        if len(inputs) != len(self.inputs):
            raise RnnedgeError(f"the model takes {len(self.inputs)} inputs, got {len(inputs)}")
        if self.debug:
            self.arena[:] = POISON_BYTE
        for view, value, port in zip(self.inputs, inputs, self.program.inputs):
            value = np.asarray(value)
            if value.dtype != port.dtype or value.size != view.size:
                raise RnnedgeError(f"input {port.name} must be {port.dtype} of shape "
                                   f"{port.shape}, got {value.dtype} {value.shape}")
            view[...] = value.reshape(view.shape)
        if self.debug:
            self._crc = {p.tensor: self._crc_of(p.tensor) for p in self.program.inputs
                         if not p.streamed}
        for index, bound in enumerate(self._calls):
            start = time.perf_counter_ns()
            self._run_step(self.program.steps[index], bound)
            self.step_ns[index] += time.perf_counter_ns() - start
            if self.debug:
                self._check(index)
        self.invocations += 1
        return [view.copy() for view in self.outputs]

    def _run_calls(self, name: str, calls) -> None:
        for fn, params, args in calls:
            rc = fn(params, *args)
            if rc != 0:
                raise RnnedgeError(f"{name}: the C kernel rejected its parameters (code {rc})")

    def _run_step(self, step, bound) -> None:
        calls, control = bound
        self._run_calls(step.name, calls)
        if control is not None:
            self._control(step.name, *control)

    def _run_subgraph(self, index: int) -> None:
        for step, bound in zip(self.program.subgraphs[index], self._subgraphs[index]):
            self._run_step(step, bound)
            if self.debug:
                self._check_guards(step.name)

    def _control(self, name, control, phases, condition) -> None:
        """Run a WHILE / IF / CALL_ONCE as TFLM's kernel does (control.py)."""
        def copy(phase):
            self._run_calls(name, phases.get(phase, ()))
        if control.opcode == "CALL_ONCE":
            if not self._once[control.flag]:
                self._run_subgraph(control.subgraphs[0])
                self._once[control.flag] = True
        elif control.opcode == "IF":
            branch = "then" if condition.value else "else"
            copy(f"{branch}_in")
            self._run_subgraph(control.subgraphs[0 if branch == "then" else 1])
            copy(f"{branch}_out")
        else:
            cond, body = control.subgraphs
            copy("enter_cond")
            copy("keep")
            self._run_subgraph(cond)
            iterations = 0
            while condition.value:
                iterations += 1
                if iterations > MAX_WHILE_ITERATIONS:
                    raise RnnedgeError(f"{name}: the loop ran {MAX_WHILE_ITERATIONS:,} "
                                       "iterations without its condition turning false")
                copy("to_body")
                self._run_subgraph(body)
                copy("from_body")
                copy("to_cond")
                self._run_subgraph(cond)

    # -- counters -------------------------------------------------------------------------
    def counters(self) -> list:
        """Per step: name, operators, MACs, total and mean wall time (ns) so far."""
        runs = max(self.invocations, 1)
        return [{"step": s.name, "ops": list(s.ops), "macs": s.macs,
                 "calls": len(s.calls), "time_ns": int(self.step_ns[i]),
                 "mean_ns": int(self.step_ns[i] // runs)}
                for i, s in enumerate(self.program.steps)]

    # -- debug ----------------------------------------------------------------------------
    def _prepare_debug(self) -> None:
        """Which tensors each step must leave intact, records, and poisons."""
        prog = self.program
        outputs = {p.tensor for p in prog.outputs}
        life = {t: (f, float("inf") if t in outputs else l)
                for t, (f, l) in prog.lifetimes.items() if f >= 0}
        self._crc = {}
        self._keep_after, self._new_after, self._poison_after = [], [], []
        for step in prog.steps:
            c = step.scope
            self._new_after.append([t for t in step.writes if t in life])
            self._keep_after.append([t for t, (f, l) in life.items() if f < c < l])
            dying = [t for t, (f, l) in life.items() if l == c]
            alive = [prog.placement[t] for t, (f, l) in life.items() if f <= c < l]
            self._poison_after.append(_subtract([prog.placement[t] for t in dying], alive))

    def _check_guards(self, name: str) -> None:
        """The guard bytes on both sides of the arena are intact."""
        if np.any(self._memory[:GUARD] != GUARD_BYTE) or \
                np.any(self._memory[GUARD + self.program.arena:] != GUARD_BYTE):
            raise RnnedgeError(f"{name}: wrote past the arena (guard bytes changed)")

    def _crc_of(self, t: int) -> int:
        """CRC32 of tensor `t`'s bytes in the arena."""
        offset, nbytes = self.program.placement[t]
        return zlib.crc32(self.arena[offset:offset + nbytes])

    def _check(self, index: int) -> None:
        """Debug checks after step `index`: guards, live tensors intact, then poison."""
        step = self.program.steps[index]
        self._check_guards(step.name)
        tensors = self.program.model.main.tensors
        for t in self._keep_after[index]:
            if t in self._crc and self._crc_of(t) != self._crc[t]:
                raise RnnedgeError(f"{step.name}: overwrote tensor {tensors[t].name}, which is "
                                   "still to be read: the arena plan is unsafe")
        for t in self._new_after[index]:
            self._crc[t] = self._crc_of(t)
        for lo, hi in self._poison_after[index]:
            self.arena[lo:hi] = POISON_BYTE


def _subtract(ranges, minus) -> list:
    """Byte intervals [lo, hi) of `ranges` not covered by any of `minus` ((offset, nbytes))."""
    marks = {}
    for offset, nbytes in ranges:
        marks.setdefault(offset, 0)
        marks[offset] += 1
        marks[offset + nbytes] = marks.get(offset + nbytes, 0) - 1
    out, depth, start = [], 0, None
    for x in sorted(marks):
        before, depth = depth, depth + marks[x]
        if before == 0 and depth > 0:
            start = x
        elif before > 0 and depth == 0:
            out.append((start, x))
    for offset, nbytes in minus:
        lo_cut, hi_cut = offset, offset + nbytes
        clipped = []
        for lo, hi in out:
            if hi <= lo_cut or lo >= hi_cut:
                clipped.append((lo, hi))
                continue
            if lo < lo_cut:
                clipped.append((lo, lo_cut))
            if hi > hi_cut:
                clipped.append((hi_cut, hi))
        out = clipped
    return out
