"""The ctypes mirrors in structs.py have the C structs' size and field offsets,
checked by compiling a probe against include/rnnedge_kernels.h."""

import ctypes
import re
import subprocess

from rnnedge.kernels import build, structs


def _c_struct_names() -> list[str]:
    header = (build.INCLUDE_DIR / "rnnedge_kernels.h").read_text()
    return re.findall(r"}\s*(rn_\w+);", header)


def _python_struct(c_name: str):
    camel = "".join(part.capitalize() for part in c_name[3:-7].split("_")) + "Params"
    fixes = {"Conv2dParams": "Conv2DParams", "DepthwiseConv2dParams": "DepthwiseConv2DParams",
             "Pool2dParams": "Pool2DParams"}
    return getattr(structs, "Broadcast" if c_name == "rn_broadcast" else fixes.get(camel, camel))


def test_every_c_struct_matches_its_ctypes_mirror(tmp_path):
    names = _c_struct_names()
    mirrors = {v for v in vars(structs).values()
               if isinstance(v, type) and issubclass(v, ctypes.Structure)}
    assert {_python_struct(n) for n in names} == mirrors  # every struct, both ways
    header = (build.INCLUDE_DIR / "rnnedge_kernels.h").read_text()
    used = set(re.findall(r"int\s+rn_\w+\s*\(\s*const\s+(rn_\w+)\s*\*", header))
    nested = set(re.findall(r"^\s+(rn_\w+)\s+\w+", header, re.M))  # struct-typed fields
    # every struct is the params of an entry point or a field type of one, declared once
    assert len(names) == len(set(names))
    assert set(names) == used | (nested & set(names))
    lines = ['#include <stddef.h>', '#include <stdio.h>',
             f'#include "{build.INCLUDE_DIR / "rnnedge_kernels.h"}"', "int main(void) {"]
    for name in names:
        for field, _ in _python_struct(name)._fields_:
            lines.append(f'  printf("{name} {field} %zu\\n", offsetof({name}, {field}));')
        lines.append(f'  printf("{name} sizeof %zu\\n", sizeof({name}));')
    lines += ["  return 0;", "}"]
    src, exe = tmp_path / "probe.c", tmp_path / "probe"
    src.write_text("\n".join(lines))
    subprocess.run([build.compiler(), "-std=c99", "-Wall", "-Werror", str(src), "-o", str(exe)],
                   check=True)
    for line in subprocess.run([str(exe)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        name, field, value = line.split()
        py = _python_struct(name)
        want = ctypes.sizeof(py) if field == "sizeof" else getattr(py, field).offset
        assert int(value) == want, f"{name}.{field}: C {value}, ctypes {want}"


def test_every_entry_point_is_declared(lib):
    header = (build.INCLUDE_DIR / "rnnedge_kernels.h").read_text()
    entries = set(re.findall(r"^int (rn_\w+)\(", header, flags=re.M))
    assert entries == set(structs.SIGNATURES)
    for name in entries:
        assert getattr(lib, name).restype is ctypes.c_int
