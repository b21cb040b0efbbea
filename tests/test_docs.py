"""Every Python code block in the README and the docs runs, offline, in a fresh process.

The plugin guide's blocks run with the guide's own plugin module installed the way a
distribution installs it: a module plus a ``*.dist-info`` with its entry point.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PLUGIN_PAGE = ROOT / "docs" / "how-to" / "write-a-plugin.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


CASES = [
    (page, index, code) for page in PAGES for index, code in enumerate(blocks(page))
]


def install_guide_plugin(target: Path) -> None:
    """Install the plugin guide's first block as module ``patience_plugin``."""
    (target / "patience_plugin.py").write_text(blocks(PLUGIN_PAGE)[0], encoding="utf-8")
    info = target / "clientsim_patience-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: clientsim-patience\nVersion: 1.0\n",
        encoding="utf-8",
    )
    (info / "entry_points.txt").write_text(
        "[clientsim]\npatience = patience_plugin\n", encoding="utf-8"
    )


def test_the_docs_have_code_to_check():
    assert len(CASES) >= 20
    assert blocks(PLUGIN_PAGE)[0].lstrip().startswith('"""')


@pytest.mark.parametrize(
    ("page", "index", "code"),
    CASES,
    ids=[f"{page.relative_to(ROOT)}:{index}" for page, index, _ in CASES],
)
def test_code_block_runs(page, index, code, tmp_path):
    env = {
        **os.environ,
        "OPENAI_API_KEY": "",
        "OPENAI_BASE_URL": "",
        "CLIENTSIM_MODEL": "",
    }
    if page == PLUGIN_PAGE:
        install_guide_plugin(tmp_path)
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    else:
        env["CLIENTSIM_DISABLE_PLUGINS"] = "1"  # the output must not depend on plugins
    process = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, f"{page.name} block {index}:\n{process.stderr}"
    assert "Unclosed" not in process.stderr
