"""``conveyor run FOLDER --out DIR`` as a subprocess: outputs per input, failures listed with their reason,
resuming on a second invocation, and Ctrl-C (SIGINT) cancelling cleanly and resuming afterwards."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from conveyor.samples import broken_pdf
from tests.support.callables import CALLS_ENV, SLEEP_ENV
from tests.support.corpus import REPO, TEXT_FORMATS, mixed_files
from tests.support.llm import LocalLLM

SUMMARY = re.compile(r"run (bx_\w+) (\w+): (\d+) succeeded, (\d+) failed, (\d+) cancelled of (\d+)")


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}
    env.update(CONVEYOR_HOME=str(home), COLUMNS="400", NO_COLOR="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p), **extra)
    return env


def command(folder: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "conveyor.cli.main", "run", str(folder), "--out", str(out), *options]


def conveyor_run(folder: Path, out: Path, env: dict[str, str], *options: str) -> tuple[int, str]:
    done = subprocess.run(command(folder, out, *options), env=env, cwd=folder.parent, capture_output=True,
                          text=True, timeout=240, check=False)
    return done.returncode, done.stdout + done.stderr


def summary(output: str) -> tuple[str, str, int, int, int, int]:
    found = SUMMARY.search(output)
    assert found, f"no summary line in:\n{output}"
    run_id, status, *counts = found.groups()
    succeeded, failed, cancelled, total = (int(n) for n in counts)
    return run_id, status, succeeded, failed, cancelled, total


def listed_failures(output: str) -> dict[str, str]:
    """The ``file │ reason`` rows of the failure table."""
    rows = [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in output.splitlines() if line.startswith("│")]
    return {row[0]: row[1] for row in rows if len(row) == 2}


def corpus_folder(tmp_path: Path, count: int = 30) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    for path in mixed_files(count, TEXT_FORMATS):
        (folder / path.name).symlink_to(path.path)
    assert len(list(folder.iterdir())) == count, "the corpus has fewer files than the test needs"
    return folder


def outputs_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def assert_resumed(output: str, run_id: str) -> None:
    """The second invocation picked up the first one's run instead of starting another."""
    assert re.search(rf"(resuming run {run_id}|run {run_id} already completed)", output), output
    assert summary(output)[0] == run_id


@pytest.mark.timeout(240)
def test_parse_folder_writes_markdown_per_file_and_resumes(tmp_path: Path) -> None:
    folder = corpus_folder(tmp_path)
    (folder / "broken.pdf").write_bytes(broken_pdf())
    out, env = tmp_path / "out", cli_env(tmp_path / "home")

    code, output = conveyor_run(folder, out, env)

    assert code == 0, output
    run_id, status, succeeded, failed, cancelled, total = summary(output)
    assert (status, total, cancelled) == ("COMPLETED", 31, 0)
    failures = listed_failures(output)
    assert "broken.pdf" in failures and "PDF" in failures["broken.pdf"], output
    assert failed == len(failures) and succeeded == 31 - failed
    for path in folder.iterdir():
        markdown = out / f"{path.name}.md"
        if path.name in failures:
            assert failures[path.name], f"{path.name} failed without a reason"
            assert not markdown.exists()
        else:
            assert markdown.is_file() and markdown.stat().st_size > 0, f"no markdown for {path.name}"
    first = outputs_of(out)

    code, output = conveyor_run(folder, out, env)

    assert code == 0, output
    assert_resumed(output, run_id)
    assert summary(output) == (run_id, status, succeeded, failed, cancelled, total)
    assert outputs_of(out) == first, "the second run changed or duplicated outputs"


@pytest.mark.timeout(240)
def test_python_callable_over_folder(tmp_path: Path) -> None:
    folder = corpus_folder(tmp_path)
    out, env = tmp_path / "out", cli_env(tmp_path / "home")
    callable_ = ("--callable", "tests.support.callables:echo")

    code, output = conveyor_run(folder, out, env, *callable_)

    assert code == 0, output
    run_id, status, succeeded, failed, _, total = summary(output)
    assert (status, succeeded, failed, total) == ("COMPLETED", 30, 0, 30)
    produced = outputs_of(out)
    assert set(produced) == {f"{p.name}.json" for p in folder.iterdir()}
    for path in folder.iterdir():
        seen = json.loads(produced[f"{path.name}.json"])
        assert seen["name"] == path.name
        assert seen["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()

    code, output = conveyor_run(folder, out, env, *callable_)

    assert code == 0, output
    assert_resumed(output, run_id)
    assert outputs_of(out) == produced


def starts(calls: Path) -> list[str]:
    if not calls.exists():
        return []
    return [line.split()[1] for line in calls.read_text().splitlines() if line.startswith("start ")]


@pytest.mark.timeout(240)
def test_sigint_cancels_and_the_next_run_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    names = [f"doc-{i}.txt" for i in range(6)]
    for name in names:
        (folder / name).write_text(f"content of {name}\n")
    out, calls = tmp_path / "out", tmp_path / "calls.log"
    options = ("--concurrency", "2", "--callable", "tests.support.callables:sleep_from_env")
    slow = cli_env(tmp_path / "home", **{SLEEP_ENV: "60", CALLS_ENV: str(calls)})

    process = subprocess.Popen(command(folder, out, *options), env=slow, cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
        while len(starts(calls)) < 2:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "no item started"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130, output
    assert "cancelled" in output.lower(), output
    assert "Traceback" not in output, output
    assert len(starts(calls)) == 2, "items started after the interrupt"

    code, output = conveyor_run(folder, out, cli_env(tmp_path / "home", **{CALLS_ENV: str(calls)}), *options)

    assert code == 0, output
    assert "resuming" in output, output
    _, status, succeeded, failed, cancelled, total = summary(output)
    assert (status, succeeded, failed, cancelled, total) == ("COMPLETED", 6, 0, 0, 6)
    assert sorted(outputs_of(out)) == sorted(f"{name}.json" for name in names)
    assert sorted(starts(calls)[2:]) == sorted(names), "the resumed run did not run each item once"


@pytest.mark.timeout(240)
def test_extract_with_a_schema_file_against_the_local_model(tmp_path: Path, local_llm: LocalLLM) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "memo.txt").write_text("Memo from Dana Scully to the records office, dated 2024-05-02.\n")
    (folder / "note.md").write_text("# Note\n\nFrom Fox Mulder, written on 2023-11-30.\n")
    schema = {"type": "object", "properties": {"author": {"type": "string"}, "date": {"type": "string"}},
              "required": ["author", "date"]}
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    out, env = tmp_path / "out", cli_env(tmp_path / "home", CONVEYOR_LLM_BASE_URL=local_llm.base_url)

    code, output = conveyor_run(folder, out, env, "--agent", "extract", "--schema", str(tmp_path / "schema.json"))

    assert code == 0, output
    assert summary(output)[1:] == ("COMPLETED", 2, 0, 0, 2)
    for name in ("memo.txt", "note.md"):
        jsonschema.validate(json.loads((out / f"{name}.json").read_text()), schema)
        assert set(json.loads((out / f"{name}.sources.json").read_text())) == {"author", "date"}


def test_extract_without_a_schema_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    code, output = conveyor_run(folder, tmp_path / "out", cli_env(tmp_path / "home"), "--agent", "extract")
    assert code == 2 and "--agent extract needs --schema FILE" in output
