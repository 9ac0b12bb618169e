"""`rnnedge report --html` in a real browser: headless Chromium (the Debian package) renders
the page offline; the rendered DOM holds every table with the report's numbers, a screenshot
is not blank, and Chromium's own network log shows no request leaving the page."""

import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models as T
from rnnedge.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                       "(apt-get install chromium; .ci/install does it as root)"),
    pytest.mark.skipif(shutil.which("vela") is None,
                       reason="Arm Vela is not installed (pip install ethos-u-vela)"),
]
# No sync, updates, component downloads or other background traffic of the browser itself,
# and no name resolution: whatever the page asked for would fail and show in the net log.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--disable-extensions",
         "--host-resolver-rules=MAP * ~NOTFOUND"]


def _chromium(tmp_path, page, *args):
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args,
                           page.as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-500:]
    return proc.stdout


def _page_requests(tmp_path, page):
    """URLs the page itself requested (those with the file:// page as their network
    isolation key) other than the page, from Chromium's net log."""
    log = tmp_path / "net.json"
    _chromium(tmp_path, page, f"--log-net-log={log}", "--dump-dom")
    events = json.loads(log.read_text())["events"]
    return {e["params"]["url"] for e in events
            if "url" in e.get("params", {}) and "file://" in e["params"].get(
                "network_isolation_key", "") and not e["params"]["url"].startswith("file:")}


class _Tables(HTMLParser):
    """The text of every table cell, table by table."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    directory = tmp_path_factory.mktemp("html")
    cache = str(tmp_path_factory.getbasetemp() / "tinyml")
    paths = [T.tflite_path(name, cache) for name in ("ds_cnn", "resnet8")]
    html = directory / "report.html"
    result = CliRunner().invoke(main, ["report", *paths, "--npu", "ethos-u55-128",
                                       "--html", str(html)])
    assert result.exit_code == 0, result.output
    arena = [json.loads(CliRunner().invoke(main, ["arena", p, "--json"]).stdout) for p in paths]
    report = json.loads(CliRunner().invoke(main, ["report", *paths, "--npu", "ethos-u55-128",
                                                  "--json"]).stdout)
    return html, arena, report


def test_page_is_self_contained(page):
    text = page[0].read_text()
    assert not re.search(r"(src|href)\s*=", text, re.I)
    assert not re.search(r"https?://|<script|@import|url\(", text, re.I)
    assert text.count("<svg") == 2 * 4  # per model: split, timeline, placement, cycles


def test_no_request_leaves_the_page(page, tmp_path):
    assert _page_requests(tmp_path, page[0]) == set()
    leaky = tmp_path / "leaky.html"  # the check can fail: a page with a remote image
    leaky.write_text('<html><body><img src="https://example.com/x.png"></body></html>')
    assert _page_requests(tmp_path, leaky) == {"https://example.com/x.png"}


def test_rendered_tables_hold_the_numbers(page, tmp_path):
    html, arena, report = page
    parser = _Tables()
    parser.feed(_chromium(tmp_path, html, "--dump-dom"))
    side, *layer_tables = parser.tables
    assert side[0] == ["", *(m["name"] for m in report["models"])]
    assert side[0][1].startswith("ds_cnn") and side[0][2].startswith("resnet8")
    rows = {r[0]: r[1:] for r in side[1:]}
    for i, a in enumerate(arena):  # numbers from `rnnedge arena --json`
        assert rows["MACs"][i] == f"{a['macs']:,}"
        assert rows["arena tflm B"][i] == f"{a['arena']['tflm']:,}"
        assert rows["arena best B"][i] == f"{a['arena']['best']:,}"
        assert rows["arena inplace B"][i] == f"{a['arena']['inplace']:,}"
    assert len(layer_tables) == 2
    for table, a, m in zip(layer_tables, arena, report["models"]):
        header, body = table[0], table[1:]
        assert len(body) == len(a["ops"])
        macs = [r[header.index("MACs")] for r in body]
        assert macs == [f"{o['macs']:,}" for o in a["ops"]]
        cycles = sum(int(r[header.index("cycles")].replace(",", "")) for r in body)
        assert cycles == m["npu"]["cycles"]


def test_screenshot_is_not_blank(page, tmp_path):
    import numpy as np
    from PIL import Image

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page[0], f"--screenshot={shot}", "--window-size=1280,1600")
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    ink = float(np.mean(pixels.sum(axis=1) < 600))
    assert image.size == (1280, 1600) and ink > 0.02
    assert len(np.unique(pixels, axis=0)) > 50  # text, tables and the coloured charts
