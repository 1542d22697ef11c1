"""The python processor: what user functions may return and how their failures are classified."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor import Artifact, PermanentError
from conveyor.processors.base import ArtifactType, ItemInput
from conveyor.processors.python import PythonProcessor, to_artifacts


def test_return_values_become_artifacts() -> None:
    assert to_artifacts(None) == []
    [text] = to_artifacts("hello")
    assert text.type is ArtifactType.TEXT and text.data == b"hello" and text.output_name("a.pdf") == "a.pdf.txt"
    [blob] = to_artifacts(b"\x00\x01")
    assert blob.type is ArtifactType.BINARY and blob.output_name("a.pdf") == "a.pdf.bin"
    [doc] = to_artifacts({"total": 3})
    assert doc.type is ArtifactType.JSON and doc.output_name("a.pdf") == "a.pdf.json"
    many = to_artifacts(["x", {"y": 1}, Artifact.markdown("# t", name="summary")])
    assert [a.output_name("f") for a in many] == ["f.text-0.txt", "f.json-1.json", "f.summary.md"]


@pytest.mark.parametrize("bad", [3.5, object(), {"k": object()}])
def test_unsupported_return_values_fail_permanently(bad: object) -> None:
    with pytest.raises(PermanentError):
        to_artifacts(bad)


async def test_a_missing_callable_fails_permanently(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("x")
    item = ItemInput(element_id="el_1", name="x.txt", media_type="text/plain", size=1, path=path)
    processor = PythonProcessor()
    with pytest.raises(PermanentError, match="cannot import"):
        await processor.run(item, {"callable": "no_such_module:fn"})
    with pytest.raises(PermanentError, match=r"package\.module:function"):
        await processor.run(item, {})


async def test_sync_and_async_functions_are_called_with_content_element_options(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"abc")
    item = ItemInput(element_id="el_1", name="x.txt", media_type="text/plain", size=3, path=path,
                     metadata={"k": "v"})
    processor = PythonProcessor()
    [out] = await processor.run(item, {"callable": "tests.conformance.agent_functions:fail_matching",
                                       "fail_pattern": "^zzz$"})
    assert out.data is not None and b'"bytes": 3' in out.data
    [slow] = await processor.run(item, {"callable": "tests.conformance.agent_functions:slow", "sleep": 0})
    assert slow.data == b"x.txt: 3 bytes"


def test_artifact_needs_exactly_one_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Artifact(name="x", type=ArtifactType.TEXT)
    with pytest.raises(ValueError, match="exactly one"):
        Artifact(name="x", type=ArtifactType.TEXT, data=b"x", path=tmp_path)
