"""The HTML report in a real headless Chromium: the chart and transcripts render after
the page's script runs, ``#q=`` filters, markup in messages stays text, and a
screenshot is saved as an artifact."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import anyio
import pytest
import yaml

from clientsim.experiments import run_experiment
from clientsim.render.html import write_html_report


ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "support_desk" / "simulation.yaml"
EVIL = "<script>document.title='pwned'</script><b id=injected>bold</b>"
BROWSER_TIMEOUT = 120
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "no headless browser: install Debian's `chromium` package "
            "(apt-get install chromium) to run the HTML report test"
        )
    return found


def browse(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-default-apps",
            f"--user-data-dir={profile}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        check=True,
    )


def dump_dom(tmp_path: Path, url: str) -> str:
    return browse(tmp_path, url, "--dump-dom").stdout


def shown_count(dom: str) -> tuple[int, int]:
    match = re.search(r"(\d+) of (\d+) conversations shown", dom)
    assert match is not None, "the count line did not render"
    return int(match.group(1)), int(match.group(2))


def entries(dom: str) -> list[str]:
    """The opening tags of the rendered conversation entries."""
    return re.findall(r'<details class="conv[^"]*"[^>]*>', dom)


@pytest.fixture(name="report", scope="module")
def _report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small offline run of the example (8 conversations) and its report."""
    chromium()
    folder = tmp_path_factory.mktemp("support_desk")
    config = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    config["iterations"] = 1
    config["inputs"].append({"content": EVIL, "intent": "Check escaping"})
    (folder / "simulation.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = anyio.run(run_experiment, folder / "simulation.yaml")
    assert result.total == 8
    return write_html_report(result.directory)


def test_the_report_renders_in_chromium(report, tmp_path):
    dom = dump_dom(tmp_path, report.as_uri())
    assert '<svg class="clientsim-chart" id="outcome-chart"' in dom
    assert "<rect" in dom
    rendered = entries(dom)
    assert len(rendered) == 8
    assert shown_count(dom) == (8, 8)
    assert not any(" hidden" in tag for tag in rendered)
    kinds = ["failing" if "conv failing" in tag else "passing" for tag in rendered]
    assert kinds == sorted(kinds)  # failing entries first
    assert dom.count('class="msg customer"') >= 8
    assert 'class="msg agent"' in dom
    # The page's script ran and the injected markup stayed text.
    title = re.search(r"<title>(.*?)</title>", dom)
    assert title is not None
    assert "pwned" not in title.group(1)
    assert 'id="injected"' not in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom


def test_a_search_in_the_address_filters_the_conversations(report, tmp_path):
    dom = dump_dom(tmp_path, report.as_uri() + "#q=parcel%20arrived")
    shown, total = shown_count(dom)
    assert total == 8
    assert 0 < shown < total
    rendered = entries(dom)
    hidden = [tag for tag in rendered if "is-hidden" in tag]
    assert len(hidden) == total - shown
    assert all(re.search(r"\shidden(=\"\")?[\s>]", tag) for tag in hidden)
    visible = [tag for tag in rendered if "is-hidden" not in tag]
    assert len(visible) == shown
    # Each entry is hidden exactly when its text lacks one of the words.
    for block in dom.split("<details ")[1:]:
        entry = block.split("</details>")[0]
        text = entry.lower()
        matches = "parcel" in text and "arrived" in text
        assert ("is-hidden" in entry.split(">")[0]) is not matches

    nothing = dump_dom(tmp_path, report.as_uri() + "#q=zzz-no-such-text")
    assert shown_count(nothing) == (0, 8)


def test_a_screenshot_is_saved_as_an_artifact(report, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    png = shots / "report.png"
    browse(tmp_path, report.as_uri(), f"--screenshot={png}", "--window-size=1280,2000")
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    artifacts = os.environ.get("CLIENTSIM_ARTIFACTS")
    if artifacts:
        target = Path(artifacts)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, target / "report.png")
