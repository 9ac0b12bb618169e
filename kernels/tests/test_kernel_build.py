"""The kernel build: strict C99 flags, caching keyed by the sources, rebuild on
change, concurrent builds, clear errors."""

import ctypes
import shutil
import subprocess
import sys

import pytest

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import build


@pytest.fixture
def src_copy(tmp_path, monkeypatch):
    """A private copy of the kernel sources and an empty cache directory."""
    src = tmp_path / "src"
    shutil.copytree(build.KERNEL_DIR, src, ignore=shutil.ignore_patterns("tests", "*.py",
                                                                         "__pycache__"))
    monkeypatch.setattr(build, "KERNEL_DIR", src)
    monkeypatch.setattr(build, "INCLUDE_DIR", src / "include")
    monkeypatch.setenv("RNNEDGE_CACHE_DIR", str(tmp_path / "cache"))
    return src


def test_flags_are_strict_c99():
    for flag in ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared"):
        assert flag in build.flags(False)
    assert "-fsanitize=address,undefined" in build.flags(True)
    assert "-fno-sanitize-recover=all" in build.flags(True)


@pytest.mark.slow
def test_library_is_cached_and_rebuilt_when_a_source_changes(src_copy):
    first = build.library_path()
    stamp = first.stat().st_mtime_ns
    assert build.library_path() == first and first.stat().st_mtime_ns == stamp
    with open(src_copy / "relu6.c", "a") as f:
        f.write("/* edited */\n")
    second = build.library_path()
    assert second != first and second.exists()
    ctypes.CDLL(str(second)).rn_relu6  # loads and exports the kernels


def test_cache_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNEDGE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert build.cache_dir() == tmp_path / "rnnedge" / "kernels"


@pytest.mark.slow
def test_concurrent_builds_share_one_library(tmp_path):
    env = {**__import__("os").environ, "RNNEDGE_CACHE_DIR": str(tmp_path)}
    code = "from rnnedge.kernels import build; print(build.library_path())"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    paths = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(paths) == 1
    files = sorted(f.name for f in (tmp_path / "kernels").iterdir())
    assert [f for f in files if not f.startswith("compiler-")] == [paths.pop().rsplit("/", 1)[1]]
    assert len(files) == 2 and files[0].endswith(".json")  # the probes' record, no temp files


def test_compiler_probes_are_recorded_per_compiler_and_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNEDGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "_FACTS", {})
    key = build.build_key(False, "optimized")
    version = subprocess.run([build.compiler(), "--version"], capture_output=True, text=True)
    assert build._compiler_facts()["version"] == version.stdout + version.stderr
    records = list((tmp_path / "kernels").glob("compiler-*.json"))
    assert len(records) == 1

    def no_compiler(*args, **kwargs):
        raise AssertionError("the compiler was probed again")
    monkeypatch.setattr(build.subprocess, "run", no_compiler)
    monkeypatch.setattr(build, "_FACTS", {})  # a new process: the record answers
    assert build.build_key(False, "optimized") == key
    monkeypatch.setattr(build, "_FACTS", {})
    monkeypatch.setattr(build, "_cpu_signature", lambda: b"flags : another cpu")
    with pytest.raises(AssertionError, match="probed again"):  # another CPU probes anew
        build.build_key(False, "optimized")


def test_compile_error_is_reported_without_leaving_files(src_copy):
    (src_copy / "broken.c").write_text("int broken(void) { return }\n")
    with pytest.raises(RnnedgeError, match="building the C kernels failed"):
        build.library_path()
    cache = build.cache_dir()
    assert not cache.exists() or not list(cache.iterdir())


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.raises(RnnedgeError, match="C compiler"):
        build.library_path()
