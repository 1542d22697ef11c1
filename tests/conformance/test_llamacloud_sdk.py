"""The unmodified ``llama-cloud`` SDK drives a live Conveyor at ``/llamacloud`` (a real server on a free port).

The tests run in file order and share one server and one ``State``: directories → 20 uploaded corpus
files → files → configurations → a ``parse_v2`` batch (its text compared with the Meibel face's parse of
the same files) → an ``extract_v2`` batch on the local model → a batch cancelled mid-way → webhooks →
batch listing. ``test_every_sdk_method_was_called`` checks which SDK methods the tests used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fpdf import FPDF
from llama_cloud import ConflictError as LlamaConflict
from llama_cloud import LlamaCloud
from llama_cloud import NotFoundError as LlamaNotFound

from tests.support.corpus import mixed_files
from tests.support.llm import LocalLLM
from tests.support.recorder import Recorder
from tests.support.server import LiveServer
from tests.support.webhooks import Receiver, valid_signature, webhook_receiver

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
SECRET = "whsec-test-secret"
INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "description": "company that issued the invoice"},
        "total": {"type": "number", "description": "amount due"},
    },
    "required": ["vendor", "total"],
}


@dataclass
class State:
    """What earlier tests made, for later ones."""

    files: dict[str, Path] = field(default_factory=dict)
    directory_id: str = ""
    file_ids: dict[str, str] = field(default_factory=dict)  # dfl- id by file name
    parse_config_id: str = ""
    extract_config_id: str = ""
    parse_batch_id: str = ""
    extract_batch_id: str = ""
    cancelled_batch_id: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(seconds=5))
    called: set[str] = field(default_factory=set)


class Api:
    def __init__(self, sdk: LlamaCloud, called: set[str]) -> None:
        self.directories = Recorder(sdk.beta.directories, "beta.directories", called)
        self.dir_files = Recorder(sdk.beta.directories.files, "beta.directories.files", called)
        self.files = Recorder(sdk.files, "files", called)
        self.configurations = Recorder(sdk.configurations, "configurations", called)
        self.batches = Recorder(sdk.batches, "batches", called)
        self.parsing = Recorder(sdk.parsing, "parsing", called)
        self.extract = Recorder(sdk.extract, "extract", called)


class Hooks:
    """Three webhook endpoints: every event of the parse batch, one that refuses its first delivery, and
    one for the cancelled batch."""

    def __init__(self, everything: Receiver, flaky: Receiver, cancel: Receiver) -> None:
        self.everything, self.flaky, self.cancel = everything, flaky, cancel


def events(receiver: Receiver, batch_id: str) -> list[str]:
    with receiver.lock:
        bodies = [json.loads(r.body) for r in receiver.received if r.body]
    return [b["event_type"] for b in bodies if b.get("batch_id") == batch_id]


@pytest.fixture(scope="module")
def state() -> State:
    return State()


@pytest.fixture(scope="module")
def server(local_llm: LocalLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(home=tmp_path_factory.mktemp("llamacloud") / "home", api_key="llamacloud-test-key",
                      env={"CONVEYOR_LLM_BASE_URL": local_llm.base_url}).start()
    yield live
    live.stop()
    assert "500 Internal Server Error" not in live.log_text, "the live server answered with 500"
    assert "unhandled error" not in live.log_text, "the live server hit an unhandled error"


@pytest.fixture(scope="module")
def sdk(server: LiveServer) -> Iterator[LlamaCloud]:
    with LlamaCloud(base_url=f"{server.url}/llamacloud", api_key=server.api_key, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def api(sdk: LlamaCloud, state: State) -> Api:
    return Api(sdk, state.called)


@pytest.fixture(scope="module")
def meibel(server: LiveServer) -> Iterator[httpx.Client]:
    """The Meibel face of the same server and project (same key)."""
    with httpx.Client(base_url=f"{server.url}/v2", headers={"Meibel-API-Key": server.api_key},
                      timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    with webhook_receiver() as everything, webhook_receiver() as flaky, webhook_receiver() as cancel:
        flaky.answers.append(500)
        yield Hooks(everything, flaky, cancel)


def wait_for(check: Callable[[], Any], within: float = 120, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; the time limit only guards against a hang."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def wait_batch(api: Api, batch_id: str, within: float = 240) -> Any:
    return wait_for(lambda: (b := api.batches.get(batch_id)).status in TERMINAL and b, within, f"batch {batch_id}")


def invoice_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    for line in ("INVOICE", "Northwind Traders", "Invoice date: 2024-03-15", "Total due: 1234.50 USD"):
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# directories --------------------------------------------------------------------------------------
def test_directories_crud(api: Api, state: State) -> None:
    created = api.directories.create(name="corpus", description="mixed corpus files")
    assert created.id.startswith("dir-") and created.name == "corpus" and created.type == "user"
    assert created.project_id.startswith("prj-")
    state.directory_id = created.id
    updated = api.directories.update(created.id, description="twenty mixed files")
    assert updated.description == "twenty mixed files" and updated.name == "corpus"
    assert api.directories.get(created.id).description == "twenty mixed files"

    scratch = api.directories.create(name="scratch", type="ephemeral")
    assert scratch.type == "ephemeral"
    listed = list(api.directories.list(page_size=1))
    assert {d.id for d in listed} >= {created.id, scratch.id}
    assert [d.id for d in api.directories.list(name="scratch")] == [scratch.id]
    assert [d.id for d in api.directories.list(type="ephemeral")] == [scratch.id]
    api.directories.delete(scratch.id)
    with pytest.raises(LlamaNotFound):
        api.directories.get(scratch.id)


def test_upload_twenty_mixed_files(api: Api, state: State) -> None:
    files = mixed_files(20)
    assert len({p.suffix for p in files}) >= 5, "the sample must mix formats"
    state.files = {p.name: p for p in files}
    for path in files:
        with path.open("rb") as f:
            uploaded = api.dir_files.upload(state.directory_id, upload_file=f)
        assert uploaded.id.startswith("dfl-") and uploaded.directory_id == state.directory_id
        assert uploaded.display_name == path.name and uploaded.unique_id == path.name
        state.file_ids[path.name] = uploaded.id
    listed = list(api.dir_files.list(state.directory_id, page_size=7))
    assert sorted(f.display_name for f in listed) == sorted(state.files)


def test_directory_file_get_update_download(api: Api, state: State) -> None:
    name, file_id = next(iter(state.file_ids.items()))
    got = api.dir_files.get(file_id, directory_id=state.directory_id)
    assert got.display_name == name and got.download_url is not None
    fetched = httpx.get(got.download_url.url, timeout=30)  # presigned: no API key
    assert fetched.status_code == 200 and fetched.content == state.files[name].read_bytes()
    tampered = httpx.get(got.download_url.url.replace("signature=", "signature=0"), timeout=30)
    assert tampered.status_code == 401

    updated = api.dir_files.update(file_id, directory_id=state.directory_id, metadata={"team": "ops", "n": 3})
    assert updated.metadata == {"team": "ops", "n": 3} and updated.unique_id == name
    assert [f.id for f in api.dir_files.list(state.directory_id, display_name=name)] == [file_id]
    assert [f.id for f in api.dir_files.list(state.directory_id, unique_id=name)] == [file_id]
    part = name[2:8]
    contains = {f.display_name for f in api.dir_files.list(state.directory_id, display_name_contains=part)}
    assert name in contains and all(part in n for n in contains)


def test_files_api(api: Api, state: State) -> None:
    path = next(iter(state.files.values()))
    with path.open("rb") as f:
        created = api.files.create(file=f, purpose="parse", external_file_id="ext-42")
    assert created.id.startswith("dfl-") and created.name == path.name and created.purpose == "parse"
    assert created.external_file_id == "ext-42" and created.file_type == path.suffix[1:].lower()
    assert api.files.retrieve(created.id).name == path.name
    assert created.id in {f.id for f in api.files.list()}
    assert [f.id for f in api.files.list(external_file_id="ext-42")] == [created.id]
    url = api.files.content(created.id, expires_at_seconds=60)
    assert httpx.get(url.url, timeout=30).content == path.read_bytes()

    scratch = api.directories.create(name="from-files")
    added = api.dir_files.add(scratch.id, file_id=created.id, display_name="copy.bin")
    assert added.display_name == "copy.bin" and added.id != created.id
    assert [f.display_name for f in api.dir_files.list(scratch.id)] == ["copy.bin"]
    api.dir_files.delete(added.id, directory_id=scratch.id)
    assert list(api.dir_files.list(scratch.id)) == []
    api.files.delete(created.id)
    with pytest.raises(LlamaNotFound):
        api.files.retrieve(created.id)
    api.directories.delete(scratch.id)


def test_uploads_are_elements_of_the_meibel_datasource(meibel: httpx.Client, state: State) -> None:
    datasources = meibel.get("/datasources").json()["datasources"]
    [corpus] = [d for d in datasources if d["name"] == "corpus"]
    elements = meibel.get(f"/datasources/{corpus['id']}/data-elements", params={"limit": 100}).json()["items"]
    assert sorted(e["name"] for e in elements) == sorted(state.files)


# configurations -----------------------------------------------------------------------------------
def test_configurations(api: Api, state: State) -> None:
    preset = api.configurations.retrieve("cfg-PARSE_FAST")
    assert preset.product_type == "parse_v2" and preset.parameters.tier == "fast"  # type: ignore[union-attr]

    parse = api.configurations.create(name="fast text", parameters={"product_type": "parse_v2", "tier": "fast",
                                                                     "version": "latest"})
    assert parse.id.startswith("cfg-") and parse.product_type == "parse_v2"
    again = api.configurations.create(name="fast text", parameters={"product_type": "parse_v2",
                                                                     "tier": "cost_effective", "version": "latest"})
    assert again.id == parse.id and again.parameters.tier == "cost_effective"  # type: ignore[union-attr]
    back = api.configurations.update(parse.id, parameters={"product_type": "parse_v2", "tier": "fast",
                                                           "version": "latest"})
    assert back.parameters.tier == "fast" and back.version >= parse.version  # type: ignore[union-attr]
    state.parse_config_id = parse.id

    extract = api.configurations.create(name="invoice fields", parameters={
        "product_type": "extract_v2", "data_schema": INVOICE_SCHEMA, "tier": "cost_effective",
        "parse_config_id": "cfg-PARSE_FAST", "system_prompt": "Copy values exactly as printed."})
    assert extract.parameters.data_schema == INVOICE_SCHEMA  # type: ignore[union-attr]
    state.extract_config_id = extract.id
    listed = {c.id for c in api.configurations.list(product_type=["extract_v2"])}
    assert listed == {extract.id}

    scratch = api.configurations.create(name="scratch", parameters={"product_type": "parse_v2", "tier": "agentic",
                                                                     "version": "latest"})
    api.configurations.delete(scratch.id)
    with pytest.raises(LlamaNotFound):
        api.configurations.retrieve(scratch.id)


# batches -------------------------------------------------------------------------------------------
def test_parse_batch(api: Api, state: State, hooks: Hooks) -> None:
    created = api.batches.create(
        config={"job": {"type": "parse_v2", "configuration_id": "cfg-PARSE_FAST"}},
        source_directory_id=state.directory_id,
        webhook_configurations=[{"webhook_url": hooks.everything.url, "webhook_signing_secret": SECRET,
                                 "webhook_headers": {"X-Team": "ops"}},
                                {"webhook_url": hooks.flaky.url, "webhook_events": ["batch.success"]}])
    assert created.id.startswith("bat-") and created.status in {"PENDING", "RUNNING", "THROTTLED"}
    assert created.config.job.configuration_id == "cfg-PARSE_FAST" and created.results is None
    state.parse_batch_id = created.id
    done = wait_batch(api, created.id)
    assert done.status == "COMPLETED" and done.source_directory_id == state.directory_id
    expanded = api.batches.get(created.id, expand=["results"])
    assert expanded.results is not None and len(expanded.results) == 20
    assert {r.source_directory_file_id for r in expanded.results} == set(state.file_ids.values())
    assert all(r.job_reference is not None and r.job_reference.type == "parse_v2" for r in expanded.results)


def meibel_texts(meibel: httpx.Client, datasource_id: str) -> dict[str, str]:
    """The Meibel face's parse of every file of a datasource (text layer only, as PARSE_FAST): its text
    artifact by file name."""
    agent = meibel.post("/agents", json={"display_name": "meibel parse", "type": "parse",
                                         "additional_properties": {"ocr": "off"}}).json()["id"]
    definition = meibel.post("/batch-definitions", json={"name": "meibel-parse", "agent_id": agent,
                                                          "input_datasource_id": datasource_id}).json()["id"]
    run_id = meibel.post(f"/batch-definitions/id/{definition}/execute").json()["execution_id"]
    wait_for(lambda: meibel.get(f"/batch-executions/id/{run_id}").json()["status"] in TERMINAL, 240, "meibel run")
    texts = {}
    for item in meibel.get(f"/batch-executions/id/{run_id}/items", params={"limit": 100}).json()["items"]:
        artifact = next(a for a in item["output_artifacts"] if a["name"] == "text")
        url = f"/datasources/{artifact['datasource_id']}/data-elements/{artifact['data_element_id']}/content"
        texts[item["filename"]] = meibel.get(url).text
    return texts


def test_parse_results_match_the_meibel_face(api: Api, state: State, meibel: httpx.Client) -> None:
    results = api.batches.get(state.parse_batch_id, expand=["results"]).results
    names = {v: k for k, v in state.file_ids.items()}
    [corpus] = [d for d in meibel.get("/datasources").json()["datasources"] if d["name"] == "corpus"]
    reference = meibel_texts(meibel, corpus["id"])
    assert set(reference) == set(state.files)
    for result in results or ():
        assert result.job_reference is not None
        job = api.parsing.get(result.job_reference.id, expand=["text", "markdown", "text_full", "markdown_full",
                                                                "items", "metadata"])
        name = names[result.source_directory_file_id]
        assert job.job.status == "COMPLETED" and job.job.tier == "fast", name
        assert job.text_full == reference[name], name
        assert job.text is not None and "\n\n".join(p.text for p in job.text.pages if p.text) == reference[name]
        assert job.markdown is not None and job.markdown_full is not None
        assert [p.page_number for p in job.markdown.pages] == [p.page_number for p in job.text.pages]
        assert job.items is not None and len(job.items.pages) == len(job.text.pages)
    first = results[0].job_reference.id if results and results[0].job_reference else ""
    bare = api.parsing.get(first)
    assert bare.text is None and bare.markdown is None and bare.job.status == "COMPLETED"
    linked = api.parsing.get(first, expand=["text_content_metadata", "markdown_content_metadata"])
    assert linked.result_content_metadata is not None and set(linked.result_content_metadata) == {"text", "markdown"}
    url = linked.result_content_metadata["text"].presigned_url or ""
    assert httpx.get(url, timeout=30).text == api.parsing.get(first, expand=["text_full"]).text_full


def test_parse_batch_is_a_meibel_batch_execution(state: State, meibel: httpx.Client) -> None:
    [corpus] = [d for d in meibel.get("/datasources").json()["datasources"] if d["name"] == "corpus"]
    runs = meibel.get("/batch-executions", params={"input_datasource_id": corpus["id"]}).json()["data"]
    mine = [r for r in runs if r["agent_spec_json"].get("display_name") == "PARSE_FAST"]
    assert len(mine) == 1 and mine[0]["status"] == "COMPLETED" and mine[0]["total_items"] == 20
    got = meibel.get(f"/batch-executions/id/{mine[0]['id']}").json()
    assert got["succeeded"] == 20 and len(got["items"]) == 20


def test_extract_batch_on_the_local_model(api: Api, state: State) -> None:
    directory = api.directories.create(name="invoices")
    files = {"invoice.pdf": invoice_pdf(), "note.txt": b"Invoice from Contoso Ltd. Total due: 99.00 EUR.\n",
             "memo.md": b"# Invoice\n\nVendor: Fabrikam Inc.\n\nTotal: 450.75\n"}
    for name, data in files.items():
        api.dir_files.upload(directory.id, upload_file=(name, data))
    created = api.batches.create(config={"job": {"type": "extract_v2", "configuration_id": state.extract_config_id}},
                                 source_directory_id=directory.id)
    state.extract_batch_id = created.id
    done = wait_batch(api, created.id, within=600)
    assert done.status == "COMPLETED"
    results = api.batches.get(created.id, expand=["results"]).results or []
    assert len(results) == 3
    for result in results:
        assert result.job_reference is not None and result.job_reference.type == "extract_v2"
        job = api.extract.get(result.job_reference.id, expand=["configuration", "extract_metadata"])
        assert job.status == "COMPLETED" and job.file_input == result.source_directory_file_id
        jsonschema.validate(job.extract_result, INVOICE_SCHEMA)
        assert job.configuration is not None and job.configuration.data_schema == INVOICE_SCHEMA
        assert job.extract_metadata is not None
        assert job.configuration_id == state.extract_config_id


def test_cancel_a_batch_mid_way(api: Api, state: State, hooks: Hooks) -> None:
    directory = api.directories.create(name="many notes")
    for n in range(40):
        api.dir_files.upload(directory.id, upload_file=(f"note-{n:02}.txt",
                                                        f"Invoice {n} from Vendor {n}. Total {n}.00\n".encode()))
    created = api.batches.create(
        config={"job": {"type": "extract_v2", "configuration_id": state.extract_config_id}},
        source_directory_id=directory.id,
        webhook_configurations=[{"webhook_url": hooks.cancel.url, "webhook_signing_secret": SECRET,
                                 "webhook_events": ["batch.cancelled"]}])
    state.cancelled_batch_id = created.id
    jobs = [r.job_reference.id for r in api.batches.get(created.id, expand=["results"]).results or ()
            if r.job_reference]
    wait_for(lambda: api.extract.get(jobs[0]).status == "COMPLETED", 120, "the first file to finish")
    assert api.batches.get(created.id).status == "RUNNING"
    cancelled = api.batches.cancel(created.id)
    assert cancelled.id == created.id
    done = wait_batch(api, created.id)
    assert done.status == "CANCELLED"
    statuses = [api.extract.get(r.job_reference.id).status
                for r in api.batches.get(created.id, expand=["results"]).results or () if r.job_reference]
    assert len(statuses) == 40 and {"COMPLETED", "CANCELLED"} <= set(statuses) <= {"COMPLETED", "FAILED", "CANCELLED"}
    with pytest.raises(LlamaConflict, match="cannot be cancelled"):
        api.batches.cancel(created.id)


def test_webhooks_are_signed_retried_and_filtered(hooks: Hooks, state: State) -> None:
    got = wait_for(lambda: len(e := events(hooks.everything, state.parse_batch_id)) >= 3 and e, 60,
                   "the parse batch's webhooks")
    assert sorted(got) == ["batch.pending", "batch.running", "batch.success"]
    for received in hooks.everything.received:
        assert valid_signature(SECRET, received, "lc-signature") and received.headers["x-team"] == "ops"
        body = json.loads(received.body)
        assert body["data"]["id"] == body["batch_id"] == state.parse_batch_id
        assert body["status"] == body["data"]["status"]
    final = next(json.loads(r.body) for r in hooks.everything.received
                 if json.loads(r.body)["event_type"] == "batch.success")
    assert final["status"] == "COMPLETED" and final["data"]["source_directory_id"] == state.directory_id
    hooks.flaky.wait_for(2)  # refused once (500), then delivered again
    assert events(hooks.flaky, state.parse_batch_id) == ["batch.success", "batch.success"]
    assert all("lc-signature" not in r.headers for r in hooks.flaky.received)
    hooks.cancel.wait_for(1)
    assert events(hooks.cancel, state.cancelled_batch_id) == ["batch.cancelled"]
    assert valid_signature(SECRET, hooks.cancel.received[0], "lc-signature")


def test_batch_list_filters_and_pages(api: Api, state: State) -> None:
    everything = list(api.batches.list(page_size=1))
    assert [b.id for b in everything][:3] == [state.cancelled_batch_id, state.extract_batch_id, state.parse_batch_id]
    first = api.batches.list(page_size=2)
    assert len(first.items) == 2 and first.next_page_token
    assert [b.id for b in api.batches.list(status="CANCELLED")] == [state.cancelled_batch_id]
    assert state.parse_batch_id in {b.id for b in api.batches.list(status="COMPLETED")}
    assert [b.id for b in api.batches.list(source_directory_id=state.directory_id)] == [state.parse_batch_id]
    assert list(api.batches.list(created_at_on_or_before=state.started)) == []
    assert len(list(api.batches.list(created_at_on_or_after=state.started))) == 3


SUPPORTED = {
    "beta.directories.create", "beta.directories.list", "beta.directories.get", "beta.directories.update",
    "beta.directories.delete", "beta.directories.files.upload", "beta.directories.files.add",
    "beta.directories.files.list", "beta.directories.files.get", "beta.directories.files.update",
    "beta.directories.files.delete", "files.create", "files.retrieve", "files.list", "files.content",
    "files.delete", "configurations.create", "configurations.retrieve", "configurations.update",
    "configurations.list", "configurations.delete", "batches.create", "batches.list", "batches.get",
    "batches.cancel", "parsing.get", "extract.get",
}


def test_every_supported_sdk_method_was_called(state: State) -> None:
    assert state.called == SUPPORTED
