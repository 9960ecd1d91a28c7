"""The HTML report: Markdown rendered by markdown-it-py into one self-contained page."""
from __future__ import annotations

import base64

import pytest

from hrsnn_hw.errors import ArtifactError
from hrsnn_hw.pipeline.report import markdown_to_html

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_tables_code_lists_and_emphasis_render(tmp_path):
    md = ("# Title with `code`\n\n| rung | verdict |\n|---|---|\n| 1 \\| a | **PASS** |\n\n"
          "- one\n- two\n\n```\nraw <text> & more\n```\n")
    page = markdown_to_html(md, tmp_path, title="t <1>")
    assert page.startswith("<!doctype html>") and "<title>t &lt;1&gt;</title>" in page
    assert "<h1>Title with <code>code</code></h1>" in page
    assert "<table>" in page and "<th>rung</th>" in page and "<td>1 | a</td>" in page
    assert "<strong>PASS</strong>" in page and "<li>one</li>" in page
    assert "raw &lt;text&gt; &amp; more" in page


def test_images_are_embedded_and_raw_html_is_escaped(tmp_path):
    (tmp_path / "fig.png").write_bytes(PNG)
    page = markdown_to_html("![a figure](fig.png)\n\n<script>alert(1)</script>\n", tmp_path)
    assert 'src="data:image/png;base64,' + base64.b64encode(PNG).decode() in page
    assert "fig.png\"" not in page and "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("src", ["../outside.png", "missing.png", "https://example.org/x.png"])
def test_images_must_be_files_inside_the_report_directory(tmp_path, src):
    (tmp_path / "outside.png").write_bytes(PNG)
    report = tmp_path / "report"
    report.mkdir()
    with pytest.raises(ArtifactError, match="inside the report directory") as info:
        markdown_to_html(f"![x]({src})\n", report)
    assert info.value.value == src
