"""Every builtin TFLite Micro's op resolver registers has a rnnedge C kernel (op_table's
`kernel`; control flow and resource variables: firmware_sim/control.py), or is named in docs/firmware.md's "TFLM builtins without a rnnedge kernel" list with
the reason; the list names nothing else.

The registered builtins are asked of the installed tflite_micro package (tflm_resolver.py),
not written down by hand; `python tests/tflm_resolver.py` prints the current remainder.
"""

import re
from pathlib import Path

import pytest

from rnnedge import op_table
from rnnedge.firmware_sim.control import Subgraphs

pytest.importorskip("tflite_micro", reason="tflite_micro (TFLM's Python interpreter) is not "
                                           "installed")
pytest.importorskip("flatbuffers", reason="flatbuffers is not installed")

from tflm_resolver import registered_builtins  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "firmware.md"
START, END = "<!-- tflm-builtins-without-kernel:start -->", "<!-- tflm-builtins-without-kernel:end -->"
ENTRY = re.compile(r"^- `([A-Z0-9_]+)`: (\S.*)$")


@pytest.fixture(scope="module")
def registered():
    return set(registered_builtins())


def documented() -> dict:
    """{builtin: reason} from the docs/firmware.md list (one `- \\`NAME\\`: reason` line each)."""
    text = DOC.read_text()
    assert START in text and END in text, f"{DOC} lacks the {START} ... {END} list"
    body = text.split(START, 1)[1].split(END, 1)[0]
    entries = {}
    for line in body.strip().splitlines():
        match = ENTRY.match(line.strip())
        assert match, f"malformed line in the docs/firmware.md list: {line!r}"
        assert match.group(1) not in entries, f"{match.group(1)} is listed twice"
        entries[match.group(1)] = match.group(2)
    return entries


def test_probe_tells_registered_from_unregistered(registered):
    """The probe itself can fail: TFLM registers ADD and CONV_2D, not LSH_PROJECTION (a TFLite
    builtin TFLM never had), and TFLM's resolver holds about a hundred builtins."""
    assert {"ADD", "CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= registered
    assert "LSH_PROJECTION" not in registered and "HASHTABLE_LOOKUP" not in registered
    assert 80 <= len(registered) <= 200


def test_every_registered_builtin_has_a_kernel_or_a_documented_reason(registered):
    missing = registered - set(op_table.names(kernel=True)) - set(Subgraphs.HANDLED)
    listed = documented()
    undocumented = sorted(missing - set(listed))
    stale = sorted(set(listed) - missing)
    assert not undocumented, ("TFLM registers these builtins, rnnedge has no kernel for them, and "
                              f"docs/firmware.md does not say why: {undocumented}")
    assert not stale, ("docs/firmware.md lists builtins that now have a rnnedge kernel (or that "
                       f"TFLM does not register): remove {stale}")
