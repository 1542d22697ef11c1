"""The unmodified ``instabase-aihub`` SDK drives a live Conveyor (a real uvicorn server on a free port).

The tests run in file order and share one server and one ``State``: batch → twenty corpus files → a
25 MB+ PDF through a multipart session (parts out of order, one re-sent) → a run of the ``parse`` app
with a completion webhook → every per-file result, compared with the Meibel face's output for the same
file → run and batch deletion, polled as jobs. Every method of the SDK's batches, apps.runs and jobs
resources is called (``test_every_supported_sdk_method_was_called`` checks it).

``settings.webhook_config`` is dropped by the SDK's own request model (``RunAppRequestSettings`` has only
``keys`` and ``runtime_config``), so the webhook run is sent through the SDK's ``ApiClient`` with the same
path, auth and JSON body that ``apps.runs.create`` uses.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from aihub import AIHub
from aihub.exceptions import ApiException, NotFoundException, UnprocessableEntityException
from aihub.models.run import Run
from fpdf import FPDF
from meibel import MeibelClient
from PIL import Image

from tests.support.corpus import mixed_files
from tests.support.polling import wait_until
from tests.support.recorder import Recorder
from tests.support.server import LiveServer
from tests.support.webhooks import Receiver, valid_signature, webhook_receiver

KEY = "aihub-conformance-key"
PART_SIZE = 4 * 1024 * 1024
LARGE_MIN = 25 * 1024 * 1024
SECRET = "hook-secret"
UNSUPPORTED = {"apps.deployments.runs.create"}


@dataclass
class State:
    """What earlier tests made, for later ones."""

    batch_id: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    large: Path | None = None
    run_id: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)


class Hub:
    def __init__(self, sdk: AIHub, called: set[str]) -> None:
        self.sdk = sdk
        self.batches = Recorder(sdk.batches, "batches", called)
        self.runs = Recorder(sdk.apps.runs, "apps.runs", called)
        self.jobs = Recorder(sdk.jobs, "jobs", called)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(home=tmp_path_factory.mktemp("aihub") / "home", api_key=KEY,
                      env={"CONVEYOR_MULTIPART_PART_SIZE": str(PART_SIZE)}).start()
    yield live
    live.stop()
    assert "500 Internal Server Error" not in live.log_text, "the live server answered with 500"
    assert "unhandled error" not in live.log_text, "the live server hit an unhandled error"


@pytest.fixture(scope="module")
def state() -> State:
    return State()


@pytest.fixture(scope="module")
def hub(server: LiveServer, state: State) -> Hub:
    return Hub(AIHub(api_key=KEY, api_root=f"{server.url}/aihub/api"), state.called)


@pytest.fixture(scope="module")
def meibel(server: LiveServer) -> Iterator[MeibelClient]:
    with MeibelClient(base_url=f"{server.url}/v2", api_key=KEY, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def raw(server: LiveServer) -> Iterator[httpx.Client]:
    """Plain HTTP to the Meibel face, for element bytes (the meibel SDK has no method for them)."""
    with httpx.Client(base_url=f"{server.url}/v2", headers={"Meibel-API-Key": KEY}, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as hooks:
        yield hooks


def large_pdf(path: Path) -> Path:
    """A PDF of 25 MB+: a line of text and an incompressible photo-sized image on each page."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=14)
    for page in range(34):
        pdf.add_page()
        pdf.cell(0, 10, f"Large document page {page + 1}: quarterly figures and notes.")
        image = Image.frombytes("RGB", (1000, 700), os.urandom(1000 * 700 * 3))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=95)
        pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=25, w=190)
    pdf.output(str(path))
    assert path.stat().st_size >= LARGE_MIN
    return path


class RssSampler:
    """The peak resident memory of a process while the block runs."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.baseline = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def all_files(hub: Hub, batch_id: int) -> list[Any]:
    nodes: list[Any] = []
    token = None
    while True:
        page = hub.batches.list_files(batch_id, page_size=7, start_token=token)
        nodes += page.nodes
        if not page.has_more:
            return nodes
        token = page.next_page_token


# batches -----------------------------------------------------------------------------------------------------
def test_create_get_and_list_batches(hub: Hub, state: State) -> None:
    created = hub.batches.create(name="corpus", workspace="documents")
    assert isinstance(created.id, int)
    state.batch_id = created.id
    info = hub.batches.get(created.id)
    assert (info.id, info.name, info.workspace) == (created.id, "corpus", "documents")
    listed = hub.batches.list(workspace="documents", limit=10, offset=0)
    assert [b.id for b in listed.batches] == [created.id]
    with pytest.raises(UnprocessableEntityException) as refused:
        hub.batches.create(name="n" * 256)
    assert json.loads(refused.value.body)["detail"][0]["loc"] == ["body", "name"]
    with pytest.raises(NotFoundException):
        hub.batches.get(created.id + 1000)


def test_add_twenty_corpus_files(hub: Hub, state: State) -> None:
    files = mixed_files(20)
    assert len(files) == 20 and len({p.suffix for p in files}) >= 5, "the sample must mix formats"
    state.files = {p.name: p for p in files}
    for path in files:
        with path.open("rb") as f:
            assert hub.batches.add_file(state.batch_id, path.name, f) is None
    nodes = all_files(hub, state.batch_id)
    assert sorted(n.name for n in nodes) == sorted(state.files)
    assert all(n.metadata.size == state.files[n.name].stat().st_size for n in nodes)


def test_large_file_through_a_multipart_session(hub: Hub, state: State, server: LiveServer,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    path = large_pdf(tmp_path_factory.mktemp("large") / "large-report.pdf")
    size = path.stat().st_size
    session = hub.batches.create_multipart_upload_session(state.batch_id, path.name, size)
    assert session.part_size == PART_SIZE
    count = -(-size // PART_SIZE)
    order = list(range(1, count + 1))
    random.Random(7).shuffle(order)
    assert order != sorted(order)
    ids: dict[int, str] = {}
    assert server.process is not None
    with RssSampler(server.process.pid) as rss, path.open("rb") as f:
        for num in [*order, order[0]]:  # the first part sent is sent again: the second copy counts
            f.seek((num - 1) * PART_SIZE)
            response = hub.batches.upload_multipart_part(session.session_id, num, f.read(PART_SIZE))
            assert response.part_num == num
            ids[num] = response.part_id
        parts = [{"part_num": n, "part_id": ids[n]} for n in range(1, count + 1)]
        assert hub.batches.commit_multipart_upload_session(session.session_id, "commit", parts) is None
    growth = rss.peak - rss.baseline
    assert growth < size / 3, f"the server grew by {growth} bytes for a {size}-byte upload"
    state.large = path
    state.files[path.name] = path
    sizes = {n.name: n.metadata.size for n in all_files(hub, state.batch_id)}
    assert sizes[path.name] == size and len(sizes) == 21


def test_files_are_elements_of_the_meibel_face(meibel: MeibelClient, raw: httpx.Client, state: State) -> None:
    (datasource,) = [d for d in meibel.datasources.list().datasources if d.name == "corpus"]
    elements = {e.name: e for e in meibel.datasources.data_elements.list(datasource.id, limit=50)}
    assert set(elements) == set(state.files)
    for name, path in state.files.items():
        digest = hashlib.sha256()
        with raw.stream("GET", f"/datasources/{datasource.id}/data-elements/{elements[name].id}/content") as r:
            for chunk in r.iter_bytes():
                digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest(), name


# an app run --------------------------------------------------------------------------------------------------
def run_app_with_webhook(hub: Hub, body: dict[str, Any]) -> Run:
    """``POST /v2/apps/runs`` through the SDK's ApiClient (the SDK model would drop ``webhook_config``)."""
    client = hub.sdk.client
    method, url, headers, payload, post = client.param_serialize(
        method="POST", resource_path="/v2/apps/runs", body=body, auth_settings=["bearerAuth"],
        header_params={"Content-Type": "application/json", "Accept": "application/json"})
    response = client.call_api(method, url, header_params=headers, body=payload, post_params=post)
    response.read()
    run: Run = client.response_deserialize(response, {"200": "Run"}).data
    return run


def test_run_the_parse_app_over_the_batch(hub: Hub, state: State, receiver: Receiver) -> None:
    run = run_app_with_webhook(hub, {"app_name": "parse", "batch_id": state.batch_id, "settings": {
        "webhook_config": {"url": receiver.url, "headers": {"X-Source": "conformance"}, "secret": SECRET}}})
    assert run.status == "RUNNING" and run.id
    state.run_id = run.id
    done = wait_until(lambda: (s := hub.runs.status(run.id)).status != "RUNNING" and s, timeout=600)
    assert done.status == "COMPLETE" and done.finish_timestamp >= done.start_timestamp
    assert done.msg == "21 of 21 files succeeded, 0 failed, 0 cancelled"
    listed = hub.runs.list(app_name="parse", status=["COMPLETE"], limit=10, offset=0)
    assert run.id in [r.id for r in listed.runs]


def test_every_result_matches_the_meibel_output(hub: Hub, state: State, meibel: MeibelClient,
                                                raw: httpx.Client) -> None:
    files: list[Any] = []
    while True:
        page = hub.runs.results(state.run_id, file_offset=len(files), include_source_info=True)
        assert page.id == state.run_id and page.status == "COMPLETE" and page.batch_id == str(state.batch_id)
        files += page.files
        if not page.has_more:
            break
    assert sorted(f.original_file_name for f in files) == sorted(state.files)
    execution = meibel.batches.executions.get_by_id(state.run_id)
    assert execution.status == "COMPLETED" and execution.succeeded == 21
    outputs = {i.filename: {a["name"]: a for a in i.output_artifacts} for i in execution.items}
    for result in files:
        (document,) = result.documents
        fields = {f.field_name: f.value for f in document.fields}
        for name in ("markdown", "text"):
            artifact = outputs[result.original_file_name][name]
            content = raw.get(f"/datasources/{artifact['datasource_id']}/data-elements/"
                              f"{artifact['data_element_id']}/content")
            assert fields[name] == content.content.decode("utf-8", "replace"), result.original_file_name
        state.texts[result.original_file_name] = fields["text"]
    assert state.large is not None
    large = state.texts[state.large.name]
    assert "Large document page 1:" in large and "Large document page 34:" in large
    large_document = next(f for f in files if f.original_file_name == state.large.name).documents[0]
    assert large_document.page_numbers == list(range(1, 35))


def test_completion_webhook_was_delivered_signed(state: State, receiver: Receiver) -> None:
    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["x-source"] == "conformance"
    assert valid_signature(SECRET, delivery)
    body = json.loads(delivery.body)
    assert (body["run_id"], body["status"], body["batch_id"], body["app_name"]) == (
        state.run_id, "COMPLETE", state.batch_id, "parse")
    assert body["succeeded"] == 21 and body["total_files"] == 21


def test_run_is_a_meibel_batch_execution(meibel: MeibelClient, state: State) -> None:
    executions = meibel.batches.executions.list().data
    assert state.run_id in [e.id for e in executions]


def test_sdk_run_create_and_add_large_file(hub: Hub, state: State) -> None:
    small = hub.batches.create(name="small")
    data = os.urandom(PART_SIZE + 1000)
    hub.batches.add_large_file(small.id, "blob.bin", data)
    hub.batches.add_file(small.id, "note.txt", b"a short note\n")
    assert {n.name: n.metadata.size for n in all_files(hub, small.id)} == {"blob.bin": len(data), "note.txt": 13}
    assert hub.batches.delete_file(small.id, "blob.bin") is None
    run = hub.runs.create(app_name="parse", batch_id=small.id)
    finished = wait_until(lambda: (s := hub.runs.status(run.id)).status != "RUNNING" and s)
    assert finished.status == "COMPLETE"
    (result,) = hub.runs.results(run.id).files
    assert result.original_file_name == "note.txt"
    assert {f.field_name: f.value for f in result.documents[0].fields}["text"].strip() == "a short note"


def test_deleting_a_run_mid_way_cancels_the_rest(hub: Hub, raw: httpx.Client) -> None:
    agent = raw.post("/agents", json={"display_name": "slow sleeper", "type": "python", "additional_properties": {
        "callable": "tests.support.callables:sleepy", "sleep": 1.5}})  # 2 waves of 10
    assert agent.status_code == 201, agent.text
    batch = hub.batches.create(name="slow")
    for number in range(20):
        hub.batches.add_file(batch.id, f"note-{number:02d}.txt", f"note {number}\n".encode())
    run = hub.runs.create(app_name="slow sleeper", batch_id=batch.id)
    execution = f"/batch-executions/id/{run.id}"
    wait_until(lambda: raw.get(execution).json()["succeeded"] >= 1, timeout=60, interval=0.05)

    hub.runs.delete(run.id, delete_db_data=False)

    stopped = hub.runs.status(run.id)
    assert stopped.status == "CANCELLED"
    counts = raw.get(execution).json()
    assert counts["status"] == "CANCELLED" and counts["succeeded"] >= 1 and counts["cancelled"] >= 1
    assert counts["succeeded"] + counts["cancelled"] + counts["failed"] == 20


# deletion ----------------------------------------------------------------------------------------------------
def test_delete_the_run_then_the_batch(hub: Hub, state: State) -> None:
    deleted = hub.runs.delete(state.run_id, delete_input=False)
    assert deleted.delete_input_dir_job_id is None and deleted.delete_output_dir_job_id
    job = wait_until(lambda: (j := hub.jobs.status(deleted.delete_output_dir_job_id)).state != "RUNNING" and j)
    assert job.state == "COMPLETE"
    with pytest.raises(NotFoundException):
        hub.runs.status(state.run_id)
    job_id = hub.batches.delete(state.batch_id).job_id
    polled = wait_until(lambda: (j := hub.batches.poll_job(job_id)).state not in ("PENDING", "RUNNING") and j)
    assert polled.state == "COMPLETE"
    with pytest.raises(NotFoundException):
        hub.batches.get(state.batch_id)
    with pytest.raises(ApiException) as bad_key:
        AIHub(api_key="wrong", api_root=hub.sdk.client.configuration.host).batches.list()
    assert bad_key.value.status == 401


def test_every_supported_sdk_method_was_called(state: State) -> None:
    wanted = {f"batches.{m}" for m in vars(AIHub.Batches) if not m.startswith("_")}
    wanted |= {f"apps.runs.{m}" for m in vars(AIHub.Runs) if not m.startswith("_")}
    wanted |= {f"jobs.{m}" for m in vars(AIHub.Jobs) if not m.startswith("_")}
    assert wanted - state.called == set()
