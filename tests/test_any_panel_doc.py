"""docs/any-panel.md runs as written: every ```python block of the page, in order, in one namespace
(so a later block uses what an earlier one built), as a reader would paste them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "any-panel.md"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def blocks(text: str) -> list[tuple[int, str]]:
    """The python code blocks of a Markdown page with the line each starts on (1-based)."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_blocks_are_found_with_their_lines():
    text = "# t\n\n```python\nx = 1\n```\n\ntext\n\n```python\ny = x + 1\n```\n```bash\nls\n```\n"
    assert blocks(text) == [(4, "x = 1\n"), (10, "y = x + 1\n")]


def test_the_page_has_code_to_run():
    assert len(blocks(PAGE.read_text(encoding="utf-8"))) >= 3


def test_every_code_block_of_the_page_runs(capsys):
    namespace: dict = {"__name__": "any_panel_doc"}
    for line, code in blocks(PAGE.read_text(encoding="utf-8")):
        try:
            exec(compile(code, f"{PAGE}:{line}", "exec"), namespace)
        except Exception as e:
            pytest.fail(f"the code block at docs/any-panel.md line {line} failed: "
                        f"{type(e).__name__}: {e}")
    out = capsys.readouterr().out
    assert "treated areas against" in out  # the evaluation's statement was printed
    assert not re.search(r"p = 0\.00(?!\d)", out)  # a randomisation p-value is never 0
