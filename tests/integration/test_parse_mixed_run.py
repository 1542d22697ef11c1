"""A ``parse`` run over 200 mixed corpus files: every format folder of the docling corpus and the pypdf
samples, repeated under new names to make up the count. Every item ends; each success has its three
outputs, and each failure is one the corpus is known for.

Expected failures: files of a type this server does not parse (the test asks the parser which types it
reads, so the list shrinks as formats are added) and the known-broken samples below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.processors.parse import SUPPORTED_MEDIA_TYPES, detect_media_type
from conveyor.processors.parse.formats import HEAD_SIZE
from tests.support.corpus import CorpusFile, mixed_files
from tests.support.inprocess import running_app, test_settings
from tests.support.runs import TERMINAL, Json, execute, items_by_name, new_definition, upload, wait_until

COUNT = 200
KNOWN_BROKEN = {
    "005-libreoffice-writer-password.pdf": "PDF is encrypted and no password was given",
    "017-unreadablemetadata.pdf": "not a valid PDF file",
}
OUTPUTS = {"markdown": "md", "text": "txt", "pages": "pages.json"}


def expected_failure(file: CorpusFile) -> str | None:
    """The start of the reason ``file`` must fail with, or None when it must succeed."""
    if file.path.name in KNOWN_BROKEN:
        return KNOWN_BROKEN[file.path.name]
    with file.open() as handle:
        media_type = detect_media_type(file.path.name, handle.read(HEAD_SIZE))
    return None if media_type in SUPPORTED_MEDIA_TYPES else f"unsupported media type '{media_type}'"


@pytest.mark.timeout(600)
async def test_two_hundred_mixed_files_parse_with_outputs_for_each(tmp_path: Path) -> None:
    files = mixed_files(COUNT)
    assert len({f.name for f in files}) == COUNT
    async with running_app(test_settings(tmp_path / "home", parse_workers=2)) as (client, _):
        response = await client.post("/v2/datasources", json={"name": "mixed corpus"})
        datasource_id = response.json()["id"]
        for start in range(0, COUNT, 50):
            batch = files[start:start + 50]
            await upload(client, datasource_id, {f.name: f.read_bytes() for f in batch},
                         {f.name: "application/octet-stream" for f in batch})
        agent = await client.post("/v2/agents", json={"display_name": "parse", "instructions": "", "type": "parse"})
        definition_id = await new_definition(client, agent.json()["id"], datasource_id, concurrency=8)
        run = await wait_until(client, await execute(client, definition_id),
                               lambda r: r["status"] in TERMINAL, within=540)
        items = await items_by_name(client, run["id"])

    assert run["status"] == "COMPLETED" and len(items) == COUNT
    unexpected = {}
    for file in files:
        item, failure = items[file.name], expected_failure(file)
        if failure is None and item["status"] == "SUCCEEDED":
            assert_three_outputs(file.name, item)
        elif failure is None or item["status"] != "FAILED" or not (item["error"] or "").startswith(failure):
            unexpected[file.name] = (item["status"], item["error"], failure)
    assert not unexpected, unexpected
    failed = sorted({f.path.name for f in files if items[f.name]["status"] == "FAILED"})
    print(f"\n{run['succeeded']} succeeded, {run['failed']} failed as expected: {', '.join(failed)}")


def assert_three_outputs(name: str, item: Json) -> None:
    outputs = {output["filename"] for output in item["output_artifacts"]}
    assert outputs == {f"{name}.{suffix}" for suffix in OUTPUTS.values()}, (name, outputs)
