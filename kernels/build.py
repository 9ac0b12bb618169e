"""Compile the C kernels into a shared library with the system C compiler, cached.

Why: the kernels are plain C99 so that the same sources build for the host (loaded
with ctypes, no Python C-API) and for a microcontroller.  On first use the sources
are compiled into one shared object under the user cache directory
(rnnedge.files.cache_dir: ``$RNNEDGE_CACHE_DIR/kernels``, else ``~/.cache/rnnedge/kernels``),
named by a hash of the sources, headers, flags and compiler version, so that any
change rebuilds and concurrent builds are safe (each writes a temporary file in the
same directory and renames it into place atomically).

Two kernel sets exist, the way TFLM keeps ``cmsis_nn/`` beside its reference kernels:
``reference`` (one readable op per file in this folder, ``-O2``) and ``optimized`` (the
same sources, except that each file of ``optimized/`` replaces its namesake: same entry
points, same params structs, the same bytes out), compiled at ``-O3`` with the widest SIMD
the host has (``-march=native`` when the compiler accepts it, else the portable
baseline).  Each set has two builds: the normal one and a sanitizer one (ASan + UBSan,
``-fno-sanitize-recover``) for tests.  A sanitizer library can only be loaded into
a process whose ASan runtime was preloaded; `sanitizer_env` gives the environment
for such a subprocess.

Flags come from cflags.py (one set for every C build rnnedge makes). May import: the
standard library, rnnedge.errors, rnnedge.files (cache location, atomic output) and this
package's cflags.
"""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output, atomic_write
from rnnedge.files import cache_dir as shared_cache_dir
from rnnedge.kernels import cflags

KERNEL_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = KERNEL_DIR / "include"
OPTIMIZED_DIR = KERNEL_DIR / "optimized"
KERNEL_SETS = ("optimized", "reference")  # the first is the default

BASE_FLAGS = cflags.COMMON + cflags.SHARED_LIBRARY
SANITIZE_FLAGS = cflags.SANITIZE
# The optimised set: -O3 and the host's SIMD; -I lets optimized/*.c name "include/..." as
# the reference files do (so a firmware can put them in the reference files' place).
OPTIMIZED_FLAGS = ("-O3", f"-I{KERNEL_DIR}")
NATIVE_FLAG = "-march=native"
LIB_STEM = "rnnedge_kernels"


def compiler() -> str:
    """The C compiler command: ``$CC`` if set, else ``cc``; raises if it is missing."""
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RnnedgeError(f"C compiler '{cc}' not found: install gcc/clang or set CC")
    return cc


def check_kernel_set(kernels: str) -> str:
    """`kernels` if it names a kernel set (KERNEL_SETS), else raises."""
    if kernels not in KERNEL_SETS:
        raise RnnedgeError(f"unknown kernel set {kernels!r}; choose one of "
                           f"{', '.join(KERNEL_SETS)}")
    return kernels


def sources(kernels: str = "reference") -> list[Path]:
    """All kernel translation units of a kernel set, in a stable order: the reference files,
    each replaced by its optimized/ namesake in the optimized set."""
    check_kernel_set(kernels)
    paths = sorted(KERNEL_DIR.glob("*.c"))
    if kernels == "optimized":
        paths = [OPTIMIZED_DIR / p.name if (OPTIMIZED_DIR / p.name).exists() else p
                 for p in paths]
    return paths


def optimized_sources() -> list[Path]:
    """The files of optimized/ (each replaces the reference file of the same name)."""
    return sorted(OPTIMIZED_DIR.glob("*.c"))


def headers() -> list[Path]:
    """All kernel headers, in a stable order."""
    return sorted(INCLUDE_DIR.glob("*.h"))


def cache_dir() -> Path:
    """Directory holding the built libraries."""
    return Path(shared_cache_dir("kernels"))


def _accepts(flag: str) -> bool:
    """True when the C compiler accepts `flag` (compiles an empty unit with it)."""
    proc = subprocess.run([compiler(), flag, "-x", "c", "-c", "-o", os.devnull, "-"],
                          input="int rn_probe;\n", capture_output=True, text=True, check=False)
    return proc.returncode == 0


def flags(sanitize: bool, kernels: str = "reference", march: str | None = None) -> tuple[str, ...]:
    """Compiler flags of a build: the kernel set's optimisation flags, then the sanitizer's.
    `march` (optimised set only) replaces -march=native, e.g. "x86-64" for the portable
    baseline a CPU without AVX-512 compiles (the tests build it to check its bytes too)."""
    extra = ()
    if check_kernel_set(kernels) == "optimized":
        target = (f"-march={march}",) if march else \
            ((NATIVE_FLAG,) if _compiler_facts()["accepts_native"] else ())
        extra = OPTIMIZED_FLAGS + target
    return BASE_FLAGS + extra + (SANITIZE_FLAGS if sanitize else ())


def _probe_compiler(cc: str) -> dict:
    """What the build key needs from the compiler: its --version text, whether it accepts
    -march=native, and what -march=native resolves to on this host (three subprocesses)."""
    version = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
    native = _accepts(NATIVE_FLAG)
    target = subprocess.run([cc, NATIVE_FLAG, "-Q", "--help=target"],
                            capture_output=True, text=True, check=False) if native else None
    return {"version": version.stdout + version.stderr, "accepts_native": native,
            "host_cpu": target.stdout if target is not None and target.returncode == 0 else ""}


def _cpu_signature() -> bytes | None:
    """The host CPU's identity as -march=native sees it (Linux: the first processor's model
    and feature flags in /proc/cpuinfo); None where it cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    first = text.split("\n\n", 1)[0]
    keys = ("vendor_id", "cpu family", "model", "model name", "stepping", "flags")
    lines = [ln for ln in first.splitlines() if ln.split(":", 1)[0].strip() in keys]
    return "\n".join(lines).encode() if lines else None


_FACTS: dict[str, dict] = {}


def _compiler_facts() -> dict:
    """`_probe_compiler` of the current compiler, remembered per process and on disk.

    Why on disk: the probes cost three compiler runs (~0.15 s) on every command that loads
    the kernels. The file is keyed by the compiler binary (real path, size, mtime) and the
    host CPU's signature, so a new compiler or another CPU probes again; where the CPU
    cannot be identified nothing is stored."""
    cc = compiler()
    if cc in _FACTS:
        return _FACTS[cc]
    binary = os.path.realpath(shutil.which(cc))
    cpu = _cpu_signature()
    facts = path = None
    if cpu is not None:
        stat = os.stat(binary)
        digest = hashlib.sha256(f"{binary}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode()
                                + cpu).hexdigest()[:20]
        path = cache_dir() / f"compiler-{digest}.json"
        try:
            facts = json.loads(path.read_text())
            if not isinstance(facts, dict) or set(facts) != {"version", "accepts_native",
                                                             "host_cpu"}:
                facts = None
        except (OSError, ValueError):
            facts = None
    if facts is None:
        facts = _probe_compiler(cc)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(facts))
    _FACTS[cc] = facts
    return facts


def build_key(sanitize: bool, kernels: str = "reference", march: str | None = None) -> str:
    """Hash of everything that determines the library's bytes."""
    cc, facts = compiler(), _compiler_facts()
    h = hashlib.sha256()
    h.update(cc.encode() + b"\0" + facts["version"].encode() + b"\0")
    h.update("\0".join(flags(sanitize, kernels, march)).encode() + b"\0")
    if kernels == "optimized":
        h.update(facts["host_cpu"].encode() + b"\0")
    for path in sources(kernels) + headers():
        h.update(path.relative_to(KERNEL_DIR).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def library_path(sanitize: bool = False, kernels: str = "reference",
                 march: str | None = None) -> Path:
    """Path of the built library of kernel set `kernels` for the current sources, building
    it if needed (`march`: see `flags`)."""
    key = build_key(sanitize, kernels, march)
    variant = "asan" if sanitize else "release"
    target = cache_dir() / f"lib{LIB_STEM}-{kernels}-{variant}-{key}.so"
    if not target.exists():
        _build(target, sanitize, kernels, march)
    return target


def _build(target: Path, sanitize: bool, kernels: str = "reference",
           march: str | None = None) -> None:
    """Compile all sources into `target` through a temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, suffix=".so") as tmp_name:
        cmd = [compiler(), *flags(sanitize, kernels, march), "-o", tmp_name,
               *[str(s) for s in sources(kernels)], "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["no compiler output"])[0]
            raise RnnedgeError(f"building the C kernels failed: {first}")


def asan_runtime() -> str:
    """Absolute path of the compiler's ASan runtime library (for LD_PRELOAD)."""
    out = subprocess.run([compiler(), "-print-file-name=libasan.so"], capture_output=True,
                         text=True, check=False).stdout.strip()
    path = os.path.realpath(out) if out else ""
    if not path or not os.path.isabs(out) or not os.path.exists(path):
        raise RnnedgeError("the compiler has no ASan runtime (libasan): install libasan")
    return path


def sanitizer_env(base: dict | None = None) -> dict:
    """Environment for a subprocess that loads the sanitizer build through ctypes.

    Preloads libasan (it must come first in the process), disables leak checking
    (the Python interpreter itself is not leak-clean), makes UBSan fatal, and sets
    ``RNNEDGE_KERNELS_SANITIZE=1`` so `rnnedge.kernels.load()` picks the variant.
    """
    env = dict(os.environ if base is None else base)
    preload = [asan_runtime()] + [p for p in env.get("LD_PRELOAD", "").split() if p]
    env["LD_PRELOAD"] = " ".join(preload)
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    env["RNNEDGE_KERNELS_SANITIZE"] = "1"
    return env


def asan_preloaded() -> bool:
    """True when this process was started with the ASan runtime preloaded."""
    return "libasan" in os.environ.get("LD_PRELOAD", "")
