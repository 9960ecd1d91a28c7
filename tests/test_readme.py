"""The README opens with the two fresh-machine commands, and CI runs exactly those."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _first_bash_block() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_readme_opens_with_two_commands_setup_plus_main_and_tests():
    cmds = _first_bash_block()
    assert cmds == ["bash scripts/setup.sh && .venv/bin/hrsnn-hw run", "bash scripts/test.sh"]
    text = (ROOT / "README.md").read_text()
    assert text.index("```bash") < 200  # it opens the README
    assert "bash scripts/setup.sh" in (ROOT / "scripts" / "test.sh").read_text()


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and 'bash -c "${CMDS[1]}"' in ci and 'bash -c "${CMDS[0]}' in ci


def test_every_readme_figure_exists_and_has_its_command_next_to_it():
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", line):
            assert (ROOT / path).exists(), path
            context = "\n".join(lines[max(0, i - 40):i])
            assert "made by `hrsnn-hw" in context.lower(), f"no command shown before {path}"
