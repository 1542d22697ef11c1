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
from sqlalchemy import select

from conveyor.services.core import Core
from conveyor.store.models import UploadSession
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
    staged = core.settings.staging_dir.joinpath(other["session_id"], f"part-2-{misplaced.json()['part_id']}")
    assert staged.exists(), "the other session stays"
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


class GatedBody:
    """A request body that sends ``head``, then waits for :meth:`release` before sending ``tail``."""

    def __init__(self, head: bytes, tail: bytes) -> None:
        self.head, self.tail = head, tail
        self.waiting = asyncio.Event()
        self._gate = asyncio.Event()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.head
        self.waiting.set()
        await self._gate.wait()
        yield self.tail

    def release(self) -> None:
        self._gate.set()


async def gated_part(client: httpx.AsyncClient, session_id: str, num: int,
                     data: bytes) -> tuple[GatedBody, asyncio.Task[httpx.Response]]:
    """A part upload that is streaming (half sent) when this returns."""
    body = GatedBody(data[:len(data) // 2], data[len(data) // 2:])
    task = asyncio.create_task(client.put(f"{API}/batches/multipart-upload/sessions/{session_id}/parts/{num}",
                                          content=body.chunks(),
                                          headers={"content-type": "application/octet-stream"}))
    await asyncio.wait_for(body.waiting.wait(), 10)
    return body, task


async def uploaded(client: httpx.AsyncClient, batch_id: int, data: bytes) -> tuple[str, list[Json]]:
    """A session with every part of ``data`` sent; its id and the commit's part list."""
    session_id = (await start(client, batch_id, "whole.bin", len(data)))["session_id"]
    listed = []
    for num, part in enumerate(chunks_of(data), start=1):
        response = await put_part(client, session_id, num, part)
        assert response.status_code == 201, response.text
        listed.append({"part_num": num, "part_id": response.json()["part_id"]})
    return session_id, listed


async def status_of(core: Core, session_id: str) -> str | None:
    async with core.db.read() as s:
        return (await s.execute(select(UploadSession.status).where(UploadSession.id == session_id))).scalar()


def stored_bytes(core: Core, data: bytes) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    return core.settings.resolved_blob_dir.joinpath(digest[:2], digest[2:4], digest).read_bytes()


async def abort(client: httpx.AsyncClient, session_id: str) -> httpx.Response:
    return await client.post(f"{API}/batches/multipart-upload/sessions/{session_id}", json={"action": "abort"})


@pytest.mark.parametrize("closing", ["abort", "commit"])
async def test_a_part_streaming_while_its_session_closes_is_a_conflict(
        hub: tuple[httpx.AsyncClient, Core], closing: str) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    data = os.urandom(2 * PART)
    session_id, listed = await uploaded(client, batch_id, data)
    body, resend = await gated_part(client, session_id, 2, os.urandom(PART))
    closed = await (abort(client, session_id) if closing == "abort" else commit(client, session_id, listed))
    assert closed.status_code == 204, closed.text
    body.release()
    late = await resend
    assert late.status_code == 409, late.text
    assert late.json()["detail"] == "the upload session was closed while this part was being sent"
    assert staged_files(core) == []
    assert await file_names(client, batch_id) == ([] if closing == "abort" else ["whole.bin"])


async def test_a_part_resent_during_a_commit_does_not_change_the_committed_bytes(
        hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    data = os.urandom(10 * PART)
    session_id, listed = await uploaded(client, batch_id, data)
    body, resend = await gated_part(client, session_id, 10, os.urandom(PART))
    committing = asyncio.create_task(commit(client, session_id, listed))
    while await status_of(core, session_id) == "open":
        await asyncio.sleep(0)
    body.release()
    assert (await resend).status_code == 409
    assert (await committing).status_code == 204
    assert stored_bytes(core, data) == data
    assert staged_files(core) == []


async def test_abort_during_a_commit_is_a_conflict(hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    data = os.urandom(10 * PART)
    session_id, listed = await uploaded(client, batch_id, data)
    committing = asyncio.create_task(commit(client, session_id, listed))
    while await status_of(core, session_id) == "open":
        await asyncio.sleep(0)
    refused = await abort(client, session_id)
    assert refused.status_code in (404, 409), refused.text  # 404 once the commit is through
    if refused.status_code == 409:
        assert refused.json()["detail"] == f"multipart upload session {session_id} is being committed"
    assert (await committing).status_code == 204
    assert stored_bytes(core, data) == data and await file_names(client, batch_id) == ["whole.bin"]


async def test_commit_abort_and_parts_at_once_never_fail_on_the_server(hub: tuple[httpx.AsyncClient, Core]) -> None:
    client, core = hub
    batch_id = await new_batch(client)
    for _ in range(5):
        data = os.urandom(4 * PART)
        session_id, listed = await uploaded(client, batch_id, data)
        done, aborted, *resent = await asyncio.gather(
            commit(client, session_id, listed), abort(client, session_id),
            *(put_part(client, session_id, n, os.urandom(PART)) for n in (1, 4)))
        assert done.status_code in (204, 409, 422) and aborted.status_code in (204, 404, 409), (done, aborted)
        assert [done.status_code, aborted.status_code].count(204) == 1 or done.status_code == 422
        assert all(r.status_code in (201, 404, 409) for r in resent)
        if done.status_code == 204:
            assert stored_bytes(core, data) == data
    assert staged_files(core) == []


async def test_a_part_streaming_while_its_session_is_swept_is_a_conflict(tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", multipart_part_size=PART, multipart_session_ttl_seconds=0.3)
    async with running_app(settings) as (client, core):
        batch_id = await new_batch(client)
        session = await start(client, batch_id, "late.bin", 2 * PART)
        body, streaming = await gated_part(client, session["session_id"], 1, os.urandom(PART))
        await asyncio.sleep(0.4)
        await core.upload_sessions.sweep()
        body.release()
        late = await streaming
        assert late.status_code == 409, late.text
        await core.upload_sessions.sweep()
        assert staged_files(core) == [] and not core.settings.staging_dir.joinpath(session["session_id"]).exists()


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
