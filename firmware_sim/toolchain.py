"""Build and run generated firmware: host C compiler, arm-none-eabi-gcc, QEMU.

`build_host` compiles a firmware directory (written by codegen.py) with the host compiler
and the Makefile's flags; `build_arm` cross-compiles it for a Cortex-M CPU ("m55" with
Helium, "m4"/"m7" with the DSP extension: the optimised kernels pick their intrinsics from
the -mcpu) and `section_sizes` reports its .text/.rodata/.data/.bss (`size -A`); `run_host`
and `run_qemu` feed input bytes and return the output bytes (QEMU runs every Cortex-M build
on the mps3-an547 machine's Cortex-M55 with semihosting). `arm_tools()` says which cross
tools are installed.
Every failure is an RnnedgeError with the tool's first error line.

Imports the standard library, rnnedge.errors and rnnedge.kernels.cflags (the one set of C
flags, the same the generated Makefile holds).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import cflags

ARM_CC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
QEMU = "qemu-system-arm"
SECTIONS = (".text", ".rodata", ".data", ".bss")


def arm_tools() -> dict:
    """{"cc": bool, "qemu": bool}: whether the cross compiler and QEMU are installed."""
    return {"cc": shutil.which(ARM_CC) is not None and shutil.which(ARM_SIZE) is not None,
            "qemu": shutil.which(QEMU) is not None}


def _sources(directory: Path, main: tuple = ("main.c",)) -> list:
    """The C files of a firmware directory, in a stable order (`main`: the main program's
    files, e.g. sensor_input's camera-frame main)."""
    kernels = sorted(p.relative_to(directory).as_posix()
                     for p in (directory / "kernels").glob("*.c"))
    return [*main, "model.c", *kernels]


def _compile(cmd: list, directory: Path, what: str) -> None:
    """Run a compiler command; raise with its first error line on failure."""
    proc = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        first = next((ln for ln in lines if "error" in ln), lines[0] if lines else "")
        raise RnnedgeError(f"{what} failed: {first[:300]}")


def build_host(directory, output: str = "firmware", cc: str | None = None,
               extra_flags: tuple = (), main: tuple = ("main.c",)) -> Path:
    """Compile the firmware in `directory` for the host (main program `main`); returns the
    executable's path."""
    directory = Path(directory)
    cc = cc or os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RnnedgeError(f"C compiler '{cc}' not found: install gcc/clang or set CC")
    cmd = [cc, *cflags.COMMON, *extra_flags, "-o", output, *_sources(directory, main), "-lm"]
    _compile(cmd, directory, "building the firmware")
    return directory / output


def build_arm(directory, cpu: str, extra_flags: tuple = (), output: str | None = None) -> Path:
    """Cross-compile the firmware in `directory` for `cpu` (a key of cflags.CPU: "m55",
    "m4", "m7"), with `extra_flags` after the CPU's (e.g. a -D); returns the ELF's path."""
    if cpu not in cflags.CPU:
        raise RnnedgeError(f"unknown CPU {cpu!r}; choose one of {', '.join(cflags.CPU)}")
    if not arm_tools()["cc"]:
        raise RnnedgeError(f"{ARM_CC} is not installed (apt-get install gcc-arm-none-eabi "
                           "libnewlib-arm-none-eabi)")
    directory = Path(directory)
    output = output or f"firmware-{cpu}.elf"
    cmd = [ARM_CC, *cflags.COMMON, *cflags.ARM, *cflags.CPU[cpu], *extra_flags,
           *cflags.ARM_LINK, "-o", output, *_sources(directory), "startup_cortex_m.c", "-lm"]
    _compile(cmd, directory, f"building the Cortex-{cpu.upper()} firmware")
    return directory / output


def section_sizes(elf) -> dict:
    """{".text", ".rodata", ".data", ".bss": bytes} of an ARM ELF (`size -A`)."""
    proc = subprocess.run([ARM_SIZE, "-A", os.fspath(elf)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RnnedgeError(f"{ARM_SIZE} failed: {proc.stderr.strip()[:200]}")
    sizes = dict.fromkeys(SECTIONS, 0)
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in sizes and parts[1].isdigit():
            sizes[parts[0]] += int(parts[1])
    return sizes


def run_host(executable, data: bytes, timeout: float = 120) -> bytes:
    """Output bytes of the host firmware fed `data` on stdin."""
    proc = subprocess.run([os.fspath(executable)], input=data, capture_output=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RnnedgeError(f"the firmware exited with {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()[:200]}")
    return proc.stdout


def run_qemu(elf, data: bytes, timeout: float = 300) -> bytes:
    """Output bytes of Cortex-M firmware run on QEMU's mps3-an547 (a Cortex-M55, which also
    executes every Armv7E-M instruction of the M4 and M7 builds; semihosting file I/O: the
    input and output files are passed as the program's arguments)."""
    return run_qemu_console(elf, data, timeout)[0]


def run_qemu_console(elf, data: bytes, timeout: float = 300, qemu_args: tuple = ()) -> tuple:
    """(output bytes, the firmware's console text) of `elf` run as run_qemu does, with
    `qemu_args` added to QEMU's command line (e.g. -icount)."""
    if not arm_tools()["qemu"]:
        raise RnnedgeError(f"{QEMU} is not installed (apt-get install qemu-system-arm)")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        with open(src, "wb") as f:
            f.write(data)
        cmd = [QEMU, "-M", "mps3-an547", *qemu_args, "-nographic", "-monitor", "none",
               "-serial", "none", "-semihosting-config",
               f"enable=on,target=native,arg=firmware,arg={src},arg={dst}",
               "-kernel", os.fspath(elf)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RnnedgeError(f"QEMU did not finish within {timeout:.0f} s") from None
        console = (proc.stderr + proc.stdout).decode(errors="replace")
        if proc.returncode != 0 or not os.path.exists(dst):
            raise RnnedgeError(f"the firmware under QEMU exited with {proc.returncode}: "
                               f"{console[:200]}")
        with open(dst, "rb") as f:
            return f.read(), console
