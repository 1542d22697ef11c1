"""The README stays true: its two commands, the CI calling the same test command, every setting."""

from __future__ import annotations

import re
from pathlib import Path

from conveyor.settings import Settings
from tests.support.corpus import REPO

README = (REPO / "README.md").read_text()


def _commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block, "the README opens with a bash block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_the_main_job_and_the_test_command() -> None:
    main_job, tests = _commands()
    assert "conveyor run examples" in main_job
    assert tests == "bash scripts/setup-test-env && python3 -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "bash scripts/setup-test-env" in ci and "python3 -m pytest" in ci


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`CONVEYOR_{name.upper()}`" in README, name


def test_examples_are_the_generated_samples(tmp_path: Path) -> None:
    from conveyor.samples import write_samples

    written = write_samples(tmp_path)
    shipped = REPO / "examples"
    assert sorted(p.name for p in written) == sorted(p.name for p in shipped.iterdir())
    for path in written:
        assert _content(path) == _content(shipped / path.name), f"examples/{path.name} is stale"


def _content(path: Path) -> bytes:
    """A file's bytes; an image's pixels (PNG compression differs between zlib builds, pixels do not)."""
    if path.suffix != ".png":
        return path.read_bytes()
    from PIL import Image

    with Image.open(path) as image:
        return image.tobytes()
