"""AI Hub multipart upload sessions: parts in any order and re-sent, and every refusal leaving nothing behind
(no element, no blob file, no part file), aborts, and the sweep of expired sessions."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conveyor.services.core import Core
from tests.support.inprocess import running_app, test_settings

API = "/aihub/api/v2"
PART = 64 * 1024
Json = dict[str, Any]


@pytest.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Core]]:
    """The app on SQLite, then on PostgreSQL."""
    settings = test_settings(tmp_path / "home", multipart_part_size=PART, max_upload_bytes=10 * PART,
                             database_url=database_url)
    async with running_app(settings) as pair:
        yield pair


async def new_batch(client: httpx.AsyncClient, name: str = "uploads") -> int:
    response = await client.post(f"{API}/batches", json={"name": name})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def start(client: httpx.AsyncClient, batch_id: int, filename: str, size: int) -> Json:
    response = await client.post(f"{API}/batches/multipart-upload",
                                 json={"batch_id": batch_id, "filename": filename, "file_size": size})
    assert response.status_code == 201, response.text
    body: Json = response.json()
    assert response.headers["location"].endswith(f"{API}/batches/multipart-upload/sessions/{body['session_id']}")
    return body


async def put_part(client: httpx.AsyncClient, session_id: str, num: int, data: bytes) -> httpx.Response:
    return await client.put(f"{API}/batches/multipart-upload/sessions/{session_id}/parts/{num}", content=data,
                            headers={"content-type": "application/octet-stream"})


async def commit(client: httpx.AsyncClient, session_id: str, parts: list[Json]) -> httpx.Response:
    return await client.post(f"{API}/batches/multipart-upload/sessions/{session_id}",
                             json={"action": "commit", "parts": parts})


def chunks_of(data: bytes) -> list[bytes]:
    return [data[i:i + PART] for i in range(0, len(data), PART)]


def blob_files(core: Core) -> set[Path]:
    root = core.settings.resolved_blob_dir
    return {p for p in root.rglob("*") if p.is_file() and p.parent.name not in ("tmp",)
            and "staging" not in p.relative_to(root).parts}


def staged_files(core: Core) -> list[Path]:
    return [p for p in core.settings.staging_dir.rglob("*") if p.is_file()]


async def file_names(client: httpx.AsyncClient, batch_id: int) -> list[str]:
    response = await client.get(f"{API}/batches/{batch_id}/files")
    assert response.status_code == 200, response.text
    return [n["name"] for n in response.json()["nodes"]]


async def assert_nothing_left(client: httpx.AsyncClient, core: Core, batch_id: int, session_id: str,
                              blobs_before: set[Path]) -> None:
    assert await file_names(client, batch_id) == []
    assert blob_files(core) == blobs_before
    assert staged_files(core) == []
    gone = await put_part(client, session_id, 1, b"x")
    assert gone.status_code == 404, gone.text


async def test_parts_out_of_order_and_resent_make_one_file(hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    data = os.urandom(3 * PART + PART // 3)
    session = await start(client, batch_id, "big.bin", len(data))
    assert session["part_size"] == PART
    parts = chunks_of(data)
    ids: dict[int, str] = {}
    for num in (4, 2, 1, 3):
        response = await put_part(client, session["session_id"], num, parts[num - 1])
        assert response.status_code == 201, response.text
        assert response.json()["part_num"] == num
        ids[num] = response.json()["part_id"]
    first = ids[2]
    resent = await put_part(client, session["session_id"], 2, parts[1])
    ids[2] = resent.json()["part_id"]
    assert ids[2] != first, "a re-sent part gets a new part id"
    response = await commit(client, session["session_id"], [{"part_num": n, "part_id": ids[n]} for n in (1, 2, 3, 4)])
    assert response.status_code == 204, response.text
    assert await file_names(client, batch_id) == ["big.bin"]
    assert staged_files(core) == []
    digest = hashlib.sha256(data).hexdigest()
    assert core.settings.resolved_blob_dir.joinpath(digest[:2], digest[2:4], digest).read_bytes() == data


async def test_a_wrong_size_middle_part_is_refused_and_its_commit_leaves_nothing(
        hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    before = blob_files(core)
    data = os.urandom(3 * PART)
    session = await start(client, batch_id, "short.bin", len(data))
    parts = chunks_of(data)
    ids = {}
    for num in (1, 3):
        ids[num] = (await put_part(client, session["session_id"], num, parts[num - 1])).json()["part_id"]
    short = await put_part(client, session["session_id"], 2, parts[1][:-1])
    assert short.status_code == 422, short.text
    assert short.json()["detail"][0]["msg"] == f"part 2 must be {PART} bytes; {PART - 1} were sent"
    long = await put_part(client, session["session_id"], 2, parts[1] + b"!")
    assert long.status_code == 422 and "part 2 must be" in long.json()["detail"][0]["msg"]
    refused = await commit(client, session["session_id"], [
        {"part_num": 1, "part_id": ids[1]}, {"part_num": 2, "part_id": "prt_never"},
        {"part_num": 3, "part_id": ids[3]}])
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == [{"loc": ["body", "parts", 1, "part_num"], "type": "value_error",
                                         "msg": "part 2 was never uploaded to this session"}]
    await assert_nothing_left(client, core, batch_id, session["session_id"], before)


async def test_a_missing_part_at_commit_is_refused_and_leaves_nothing(hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    before = blob_files(core)
    data = os.urandom(2 * PART + 10)
    session = await start(client, batch_id, "gap.bin", len(data))
    parts = chunks_of(data)
    listed = []
    for num in (1, 3):
        part_id = (await put_part(client, session["session_id"], num, parts[num - 1])).json()["part_id"]
        listed.append({"part_num": num, "part_id": part_id})
    refused = await commit(client, session["session_id"], listed)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["msg"] == "parts must list part_num 1 to 3 in order, each once"
    await assert_nothing_left(client, core, batch_id, session["session_id"], before)


async def test_a_part_sent_to_another_sessions_url_is_refused_at_commit(
        hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    before = blob_files(core)
    data = os.urandom(2 * PART)
    mine = await start(client, batch_id, "mine.bin", len(data))
    other = await start(client, batch_id, "other.bin", len(data))
    parts = chunks_of(data)
    own = await put_part(client, mine["session_id"], 1, parts[0])
    own_second = await put_part(client, mine["session_id"], 2, parts[1])
    misplaced = await put_part(client, other["session_id"], 2, parts[1])
    assert misplaced.status_code == 201 and own_second.status_code == 201
    refused = await commit(client, mine["session_id"], [
        {"part_num": 1, "part_id": own.json()["part_id"]}, {"part_num": 2, "part_id": misplaced.json()["part_id"]}])
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "parts", 1, "part_id"]
    assert "is not part 2 of this session" in refused.json()["detail"][0]["msg"]
    assert not core.settings.staging_dir.joinpath(mine["session_id"]).exists()
    assert core.settings.staging_dir.joinpath(other["session_id"], "part-2").exists(), "the other session stays"
    aborted = await client.post(f"{API}/batches/multipart-upload/sessions/{other['session_id']}",
                                json={"action": "abort"})
    assert aborted.status_code == 204
    await assert_nothing_left(client, core, batch_id, other["session_id"], before)


async def test_abort_leaves_nothing(hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    before = blob_files(core)
    session = await start(client, batch_id, "a.bin", PART + 1)
    assert (await put_part(client, session["session_id"], 1, os.urandom(PART))).status_code == 201
    response = await client.post(f"{API}/batches/multipart-upload/sessions/{session['session_id']}",
                                 json={"action": "abort"})
    assert response.status_code == 204
    await assert_nothing_left(client, core, batch_id, session["session_id"], before)


@pytest.mark.parametrize(("body", "status", "loc"), [
    ({"filename": "x" * 256, "file_size": 10}, 422, ["body", "filename"]),
    ({"filename": "a.bin", "file_size": 0}, 422, ["body", "file_size"]),
    ({"filename": "a.bin", "file_size": "ten"}, 422, ["body", "file_size"]),
    ({"filename": "dir/a.bin", "file_size": 10}, 422, ["body", "filename"]),
    ({"filename": "a.bin", "file_size": 10 * PART + 1}, 413, None),
])
async def test_bad_session_starts_are_refused(hub: tuple[httpx.AsyncClient, Core], body: Json, status: int,
                                              loc: list[str] | None) -> None:
    client, _ = hub
    batch_id = await new_batch(client)
    response = await client.post(f"{API}/batches/multipart-upload", json={"batch_id": batch_id, **body})
    assert response.status_code == status, response.text
    if loc is not None:
        assert response.json()["detail"][0]["loc"] == loc


async def test_file_size_may_be_a_string_and_part_numbers_are_checked(hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, _ = hub
    batch_id = await new_batch(client)
    session = await start(client, batch_id, "s.bin", str(PART + 5))  # type: ignore[arg-type]
    beyond = await put_part(client, session["session_id"], 3, b"x")
    assert beyond.status_code == 422 and beyond.json()["detail"][0]["loc"] == ["path", "part_num"]
    zero = await put_part(client, session["session_id"], 0, b"x")
    assert zero.status_code == 422


async def test_a_file_over_the_upload_limit_is_refused_while_it_streams(
        hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    before = blob_files(core)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(11):
            yield os.urandom(PART)

    response = await client.put(f"{API}/batches/{batch_id}/files/huge.bin", content=body(),
                                headers={"content-type": "application/octet-stream"})
    assert response.status_code == 413, response.text
    assert await file_names(client, batch_id) == [] and blob_files(core) == before
    assert not any(core.settings.resolved_blob_dir.joinpath("tmp").iterdir()), "no temporary file is left"


async def test_expired_sessions_are_swept_with_their_parts(tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", multipart_part_size=PART, multipart_session_ttl_seconds=0.3)
    async with running_app(settings) as (client, core):
        batch_id = await new_batch(client)
        before = blob_files(core)
        session = await start(client, batch_id, "late.bin", 2 * PART)
        assert (await put_part(client, session["session_id"], 1, os.urandom(PART))).status_code == 201
        stray = core.settings.staging_dir / "mus_orphan"
        stray.mkdir()
        (stray / "part-1").write_bytes(b"left by a crash")
        await asyncio.sleep(0.4)
        late = await put_part(client, session["session_id"], 2, os.urandom(PART))
        assert late.status_code == 404 and "expired" in late.json()["detail"]
        await core.upload_sessions.sweep()
        assert staged_files(core) == [] and not stray.exists()
        assert await core.upload_sessions.sweep() == 0
        await assert_nothing_left(client, core, batch_id, session["session_id"], before)
