"""The extract and llm processors against a real local model (`conveyor llm serve`, Gemma 3 270M).

Field accuracy of a 270M-parameter model is reported, not asserted; what is asserted is that every answer
validates against its schema, and how rate limits, retries, budgets and token usage behave.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from fpdf import FPDF

from conveyor.services.core import Core
from tests.support.inprocess import running_app, test_settings
from tests.support.llm import FaultyProxy, LocalLLM
from tests.support.runs import (
    all_items,
    content,
    execute,
    get_run,
    new_datasource,
    new_definition,
    wait_terminal,
    wait_until,
)

INVOICE = {"vendor": "Northwind Traders", "invoice_date": "2024-03-15", "total": 1234.5}
INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "description": "company that issued the invoice"},
        "invoice_date": {"type": "string", "description": "date of the invoice, YYYY-MM-DD"},
        "total": {"type": "number", "description": "amount due"},
    },
    "required": ["vendor", "invoice_date", "total"],
}


def invoice_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=20)
    pdf.cell(0, 12, "INVOICE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=12)
    for line in (INVOICE["vendor"], "12 Harbour Road, Seattle", f"Invoice date: {INVOICE['invoice_date']}",
                 "Invoice number: INV-0042", "", "Widgets  10 x 100.00  1000.00", "Shipping  234.50",
                 f"Total due: {INVOICE['total']:.2f} USD"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def extract_agent(client: httpx.AsyncClient, **extra: Any) -> str:
    body = {"display_name": "invoice fields", "type": "extract", "instructions": "",
            "additional_properties": {"schema": INVOICE_SCHEMA, **extra}}
    response = await client.post("/v2/agents", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def run_agent(client: httpx.AsyncClient, agent_id: str, files: dict[str, bytes],
                    media_types: dict[str, str], **definition: Any) -> dict[str, Any]:
    datasource_id, _ = await new_datasource(client, files, media_types)
    definition_id = await new_definition(client, agent_id, datasource_id, **definition)
    return await wait_terminal(client, await execute(client, definition_id))


async def output_json(client: httpx.AsyncClient, item: dict[str, Any], suffix: str) -> Any:
    artifact = next(a for a in item["output_artifacts"] if a["filename"].endswith(suffix))
    return json.loads(await content(client, artifact["datasource_id"], artifact["data_element_id"]))


def field_accuracy(found: dict[str, Any]) -> float:
    hits = [str(found.get(key)).strip().lower() == str(value).lower() or found.get(key) == value
            for key, value in INVOICE.items()]
    return sum(hits) / len(hits)


async def test_extract_reads_an_invoice_into_schema_valid_json(local_llm: LocalLLM, tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url=local_llm.base_url)
    async with running_app(settings) as (client, _):
        agent_id = await extract_agent(client)
        run = await run_agent(client, agent_id, {"invoice.pdf": invoice_pdf()}, {"invoice.pdf": "application/pdf"})
        assert run["status"] == "COMPLETED" and run["succeeded"] == 1, run
        [item] = await all_items(client, run["id"])
        fields = await output_json(client, item, "invoice.pdf.json")
        jsonschema.validate(fields, INVOICE_SCHEMA)
        sources = await output_json(client, item, ".sources.json")
        assert set(sources) == set(fields) and all(page in (1, None) for page in sources.values())
        assert item["usage"]["requests"] >= 1 and item["usage"]["prompt_tokens"] > 0
        assert run["usage"]["total_tokens"] == item["usage"]["total_tokens"]
        print(f"extracted {fields}; field accuracy {field_accuracy(fields):.2f}")


async def test_an_llm_that_answers_429_twice_leaves_the_item_succeeded_on_attempt_3(
        faulty_llm: FaultyProxy, tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url=faulty_llm.base_url)
    async with running_app(settings) as (client, _):
        agent_id = await extract_agent(client)
        faulty_llm.fail(2, status=429, retry_after="1")
        run = await run_agent(client, agent_id, {"invoice.pdf": invoice_pdf()}, {"invoice.pdf": "application/pdf"},
                              retry_limit=3)
        [item] = await all_items(client, run["id"])
        assert (item["status"], item["attempts"]) == ("SUCCEEDED", 3), item
        assert faulty_llm.refused == 2 and faulty_llm.forwarded >= 1
        jsonschema.validate(await output_json(client, item, "invoice.pdf.json"), INVOICE_SCHEMA)
        assert item["usage"]["requests"] >= 3  # the refused calls count as requests


async def test_a_provider_that_keeps_failing_fails_the_item_with_its_reason(faulty_llm: FaultyProxy,
                                                                             tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url=faulty_llm.base_url)
    async with running_app(settings) as (client, _):
        agent_id = await extract_agent(client)
        faulty_llm.fail(2, status=503, retry_after="0")
        run = await run_agent(client, agent_id, {"a.txt": b"Northwind Traders invoice"}, {"a.txt": "text/plain"},
                              retry_limit=1)
        [item] = await all_items(client, run["id"])
        assert item["status"] == "FAILED" and item["attempts"] == 2
        assert "answered 503" in item["error"] and "gave up after 2 attempts" in item["error"]


async def test_llm_agent_writes_one_artifact_per_schema(local_llm: LocalLLM, tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url=local_llm.base_url)
    async with running_app(settings) as (client, _):
        schema = {"type": "object", "properties": {"title": {"type": "string"}, "topics": {
            "type": "array", "items": {"type": "string"}, "maxItems": 3}}, "required": ["title", "topics"]}
        created = await client.post("/v2/artifact-schemas", json={
            "display_name": "Summary card", "type": "json", "schema_def": schema})
        assert created.status_code == 201, created.text
        agent = await client.post("/v2/agents", json={
            "display_name": "summariser", "type": "llm", "instructions": "You summarise documents.",
            "artifacts": [created.json()["id"]], "max_tokens": 200})
        assert agent.status_code == 201, agent.text
        text = b"Quarterly report. Revenue grew 12 percent thanks to the new widget line and lower shipping costs."
        run = await run_agent(client, agent.json()["id"], {"report.txt": text}, {"report.txt": "text/plain"})
        [item] = await all_items(client, run["id"])
        assert item["status"] == "SUCCEEDED", item
        [artifact] = item["output_artifacts"]
        assert artifact["filename"] == "report.txt.summary-card.json"
        jsonschema.validate(await output_json(client, item, ".summary-card.json"), schema)


async def test_a_run_whose_items_all_wait_on_the_budget_shows_throttled(local_llm: LocalLLM, tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url=local_llm.base_url, llm_requests_per_minute=1)
    async with running_app(settings) as (client, _):
        agent = await client.post("/v2/agents", json={"display_name": "echo", "type": "llm", "max_tokens": 8})
        datasource_id, _ = await new_datasource(client, {"a.txt": b"one", "b.txt": b"two"})
        definition_id = await new_definition(client, agent.json()["id"], datasource_id, concurrency=2)
        run_id = await execute(client, definition_id)
        # one request a minute: the first item goes, the second waits on the budget, and once the first
        # is done every item in flight is waiting
        # (the first item's result is recorded in the writer's next batch, so wait for both facts together)
        run = await wait_until(client, run_id, lambda r: r["status"] == "THROTTLED" and r["succeeded"] == 1,
                               within=60)
        assert run["running"] == 1 and run["pending"] == 0
        assert (await client.post(f"/v2/batch-executions/id/{run_id}/cancel")).status_code == 200
        assert (await wait_terminal(client, run_id))["status"] == "CANCELLED"


async def test_extract_agent_needs_a_valid_schema(app_client: tuple[httpx.AsyncClient, Core]) -> None:
    client, _ = app_client
    missing = await client.post("/v2/agents", json={"display_name": "x", "type": "extract"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "additional_properties"]
    broken = await client.post("/v2/agents", json={"display_name": "x", "type": "extract",
                                                   "additional_properties": {"schema": {"type": "nonsense"}}})
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["loc"] == ["body", "additional_properties", "schema"]
    unknown = await client.post("/v2/agents", json={"display_name": "x", "type": "llm", "artifacts": ["as_nope"]})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "artifacts", 0]


async def test_run_reads_back_through_get(local_llm: LocalLLM, tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url=local_llm.base_url)
    async with running_app(settings) as (client, _):
        agent = await client.post("/v2/agents", json={"display_name": "echo", "type": "llm", "max_tokens": 16,
                                                      "instructions": "Answer in one short sentence."})
        datasource_id, _ = await new_datasource(client, {"a.md": b"# Title\n\nHello there."})
        run_id = await execute(client, await new_definition(client, agent.json()["id"], datasource_id))
        run = await wait_terminal(client, run_id)
        assert run["status"] == "COMPLETED" and run["succeeded"] == 1
        assert (await get_run(client, run_id))["usage"]["completion_tokens"] > 0


async def test_llm_options_are_checked_when_the_agent_is_made(app_client: tuple[httpx.AsyncClient, Core]) -> None:
    client, _ = app_client
    for extra, key in (({"chunk_chars": -5}, "chunk_chars"), ({"fallback_models": "gpt-4o-mini"}, "fallback_models"),
                       ({"temperature": True}, "temperature"), ({"max_chunks": 0}, "max_chunks")):
        response = await client.post("/v2/agents", json={"display_name": "x", "type": "extract",
                                                         "additional_properties": {"schema": INVOICE_SCHEMA, **extra}})
        assert response.status_code == 422, extra
        assert response.json()["detail"][0]["loc"] == ["body", "additional_properties", key]


async def test_a_document_longer_than_max_chunks_fails_before_any_llm_call(tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", llm_base_url="http://127.0.0.1:9/v1")  # nothing listens there
    async with running_app(settings) as (client, _):
        agent_id = await extract_agent(client, chunk_chars=500, max_chunks=2)
        run = await run_agent(client, agent_id, {"long.txt": b"word " * 1000}, {"long.txt": "text/plain"})
        [item] = await all_items(client, run["id"])
        assert item["status"] == "FAILED" and "at most 2" in item["error"] and item["usage"] is None
