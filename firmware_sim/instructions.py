"""Instructions executed per inference by Cortex-M firmware under QEMU.

Why this way: the installed QEMU (Debian's qemu-system-arm 7.2) ships no TCG plugins (no
libinsn.so; its plugin API header is not installed either), so the count comes from QEMU's
deterministic instruction counting instead: with `-icount shift=0` the virtual clock
advances exactly 2**0 ns per executed guest instruction, and every timer of the machine runs
on that clock. The firmware built with -DRN_COUNT_INSTRUCTIONS (templates/main.c) reads the
architectural SysTick, clocked by the processor clock (mps3-an547: 32 MHz), around each
`rn_model_invoke()` call, counts its wraps in the SysTick interrupt (startup_cortex_m.c) and
prints the ticks; instructions = ticks * 1e9 / (32 MHz * 2**shift), to within one tick
(31.25 instructions) per inference, plus the few instructions of the timer reads and of
one SysTick interrupt per 2**24 ticks (about 5e8 instructions). The count is of executed
instructions, not cycles: QEMU models no pipeline or memory timing.

The M4/M7 builds run on the same machine's Cortex-M55 (which implements every Armv7E-M
instruction they contain), so their counts are those of the M4/M7 instruction streams.

Imports the standard library, rnnedge.errors and this package's toolchain.
"""

import re
from pathlib import Path

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import toolchain

ICOUNT_SHIFT = 0
#: QEMU's mps3-an547 SYSCLK, SysTick's processor clock (CLKSOURCE = 1)
AN547_SYSCLK_HZ = 32_000_000
COUNT_FLAG = "-DRN_COUNT_INSTRUCTIONS"
_TICKS = re.compile(r"rn_invoke_ticks (\d+) (\d+) (\d+)")


def build_counting(directory, cpu: str) -> Path:
    """Cross-compile the firmware in `directory` for `cpu` with the invoke-tick counter:
    `firmware-<cpu>-count.elf` (the kernels' code is that of the plain build)."""
    return toolchain.build_arm(directory, cpu, extra_flags=(COUNT_FLAG,),
                               output=f"firmware-{cpu}-count.elf")


def ticks_to_instructions(ticks: float) -> float:
    """Guest instructions in `ticks` SysTick ticks under -icount shift=ICOUNT_SHIFT."""
    return ticks * 1e9 / (AN547_SYSCLK_HZ * 2 ** ICOUNT_SHIFT)


def count_instructions(elf, data: bytes, timeout: float = 600) -> dict:
    """Run a counting build (build_counting) on `data` under QEMU with -icount:
    {"output": the output bytes, "samples": n, "instructions_per_inference": mean over the
    samples}."""
    out, console = toolchain.run_qemu_console(
        elf, data, timeout, qemu_args=("-icount", f"shift={ICOUNT_SHIFT},align=off,sleep=off"))
    match = _TICKS.search(console)
    if match is None:
        raise RnnedgeError(f"{Path(elf).name} printed no instruction count (not a build of "
                           "build_counting?)")
    high, low, samples = (int(g) for g in match.groups())
    ticks = (high << 32) | low
    return {"output": out, "samples": samples,
            "instructions_per_inference": ticks_to_instructions(ticks) / samples}
