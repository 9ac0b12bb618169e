"""Byte budgets: every allocation sized by an input file is checked before it is made.

A .tflite file of a few hundred bytes can declare an 8 GB tensor, and a pickle or a data spec
can ask for any number of samples, so the sizes a file asks for are compared with a limit
first and refused with one line. The arena limit (`--max-arena`) defaults to a quarter of
the machine's physical memory, at most DEFAULT_CAP; firmware for a microcontroller target
is held to that target's RAM (rnnedge.firmware_sim.codegen.TARGET_RAM).

    limit = default_max_arena()
    check_bytes("the c backend's arena", program.arena, limit, "--max-arena")

May import: the standard library and rnnedge.errors.
"""

import os

from rnnedge.errors import RnnedgeError

DEFAULT_CAP = 512 << 20  # no model rnnedge targets needs more arena than this
DATA_BYTES = 768 << 20  # images a dataset may decode into memory
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20,
          "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}


def machine_memory() -> int:
    """Physical memory of this machine in bytes (4 GiB when the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def default_max_arena() -> int:
    """The default `--max-arena`: a quarter of physical memory, at most DEFAULT_CAP."""
    return min(machine_memory() // 4, DEFAULT_CAP)


def parse_bytes(text) -> int:
    """"64M", "512K", "1G", "1048576" -> bytes; RnnedgeError for anything else."""
    value = str(text).strip().upper()
    digits = value.rstrip("BKMGI")
    unit = value[len(digits):]
    if not digits.isdigit() or unit not in _UNITS or len(digits) > 15:
        raise RnnedgeError(f"bad byte size {str(text)[:40]!r}: give e.g. 65536, 512K, 64M or 1G")
    size = int(digits) * _UNITS[unit]
    if size < 1:
        raise RnnedgeError("a byte size must be positive")
    return size


def check_bytes(what: str, nbytes: int, limit: int, option: str = "--max-arena") -> int:
    """Raise RnnedgeError when `nbytes` exceeds `limit`; returns nbytes."""
    if nbytes > limit:
        raise RnnedgeError(f"{what} would need {nbytes:,} bytes, over the limit of {limit:,} "
                           f"({option}); the model declares tensors larger than memory allows")
    return nbytes
