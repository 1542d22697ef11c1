"""Pure parts of the LLM layer: schema bounds, reading JSON out of answers, budgets, chunks, merging."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from conveyor.errors import PermanentError
from conveyor.llm.budget import Budget
from conveyor.llm.client import retry_after
from conveyor.llm.config import StructuredOutput
from conveyor.llm.structured import bounded, check_schema, parse_json, response_format, validation_errors
from conveyor.processors.base import ThrottleGauge
from conveyor.processors.documents import chunk_pages, clip
from conveyor.processors.extract import merge, source_pages


def test_bounded_caps_free_strings_and_arrays_only() -> None:
    schema = {"type": "object", "properties": {
        "name": {"type": "string"}, "code": {"type": "string", "maxLength": 5},
        "kind": {"type": "string", "enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": ["string", "null"]}}}}
    out = bounded(schema)
    props = out["properties"]
    assert props["name"]["maxLength"] == 500 and props["code"]["maxLength"] == 5
    assert "maxLength" not in props["kind"]
    assert props["tags"]["maxItems"] == 50 and props["tags"]["items"]["maxLength"] == 500
    assert "maxLength" not in schema["properties"]["name"], "the caller's schema is not changed"


def test_response_format_per_dialect() -> None:
    schema = {"type": "object"}
    assert response_format(StructuredOutput.JSON_SCHEMA, schema)["type"] == "json_schema"
    assert response_format(StructuredOutput.JSON_OBJECT, schema) == {"type": "json_object", "schema": schema}
    assert response_format(StructuredOutput.PROMPT, schema) is None


@pytest.mark.parametrize(("answer", "value"), [
    ('{"a": 1}', {"a": 1}),
    ('Sure! ```json\n{"a": [1, 2]}\n``` hope that helps', {"a": [1, 2]}),
    ('The result is {"a": "x"} and more text {"b": 2}', {"a": "x"}),
])
def test_parse_json_finds_the_first_value(answer: str, value: object) -> None:
    assert parse_json(answer) == value


def test_parse_json_without_json() -> None:
    with pytest.raises(ValueError, match="no JSON"):
        parse_json("I cannot help with that.")


def test_validation_errors_name_the_field() -> None:
    schema = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total", "vendor"]}
    errors = validation_errors({"total": "12"}, schema)
    assert any(e.startswith("total:") for e in errors) and any("vendor" in e for e in errors)
    assert validation_errors({"total": 1, "vendor": "x"}, schema) == []


def test_check_schema_refuses_invalid_schemas() -> None:
    with pytest.raises(PermanentError, match="not a valid JSON Schema"):
        check_schema({"type": "nonsense"})
    with pytest.raises(PermanentError, match="must be a JSON object"):
        check_schema(["type"])


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7
    assert retry_after(httpx.Response(429)) is None
    assert retry_after(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None


async def test_budget_makes_the_second_request_wait_and_counts_the_waiter() -> None:
    gauge = ThrottleGauge()
    budget = Budget(requests_per_minute=1, tokens_per_minute=0, gauge=gauge)
    await budget.reserve(10, "run-a")
    assert gauge.count("run-a") == 0
    waiter = asyncio.create_task(budget.reserve(10, "run-a"))
    await asyncio.sleep(0.05)
    assert not waiter.done() and gauge.count("run-a") == 1 and gauge.count("run-b") == 0
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gauge.count("run-a") == 0


async def test_budget_tokens_and_pause() -> None:
    gauge = ThrottleGauge()
    budget = Budget(requests_per_minute=0, tokens_per_minute=1000, gauge=gauge)
    await budget.reserve(900, "r")
    budget.settle(estimated=900, actual=100)  # the call used fewer tokens than reserved: they come back
    await asyncio.wait_for(budget.reserve(800, "r"), timeout=1)
    budget.pause(30)
    waiter = asyncio.create_task(budget.reserve(1, "r"))
    await asyncio.sleep(0.05)
    assert not waiter.done() and gauge.count("r") == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_unlimited_budget_never_waits() -> None:
    gauge = ThrottleGauge()
    budget = Budget(0, 0, gauge)
    for _ in range(1000):
        call = budget.reserve(10_000, "r")
        with pytest.raises(StopIteration):  # finished on its first step: it never suspended to wait
            call.send(None)
    assert gauge.count("r") == 0


def test_chunks_keep_whole_pages_and_split_long_ones() -> None:
    pages = [{"page": n, "text": "x" * size} for n, size in ((1, 40), (2, 40), (3, 200), (4, 10))]
    chunks = chunk_pages(pages, max_chars=100)
    assert [(c.first_page, c.last_page) for c in chunks] == [(1, 2), (3, 3), (3, 3), (3, 3), (4, 4)]
    assert "[Page 1]" in chunks[0].text and "[Page 2]" in chunks[0].text
    assert all(len(c.text) <= 100 for c in chunks)
    assert chunk_pages([])[0].text == ""


def test_clip_says_it_cut() -> None:
    assert clip("short", 10) == "short"
    assert clip("x" * 20, 10).endswith("[… document cut here: 10 more characters]")


def test_merge_takes_the_first_non_empty_value_and_joins_lists() -> None:
    value, origin = merge([{"vendor": None, "items": ["a"], "total": 5},
                           {"vendor": "Acme", "items": ["a", "b"], "total": 7}])
    assert value == {"vendor": "Acme", "items": ["a", "b"], "total": 5}
    assert origin == {"vendor": 1, "items": 0, "total": 0}


def test_source_pages_find_the_page_holding_each_value() -> None:
    pages = [{"page": 1, "text": "Invoice from ACME corp"}, {"page": 2, "text": "Total due 42.00"}]
    chunks = chunk_pages(pages, max_chars=10_000)
    found = source_pages({"vendor": "Acme Corp", "total": 42.0, "missing": None, "lines": ["x"]},
                         {"vendor": 0, "total": 0, "lines": 0}, chunks, pages)
    assert found == {"vendor": 1, "total": 2, "missing": None, "lines": 1}


def test_schema_refs_must_resolve_inside_the_schema() -> None:
    inside = {"$defs": {"money": {"type": "number"}}, "properties": {"total": {"$ref": "#/$defs/money"}}}
    assert check_schema(inside) is inside
    assert validation_errors({"total": "x"}, inside) and not validation_errors({"total": 2}, inside)
    with pytest.raises(PermanentError, match="refers outside itself"):
        check_schema({"properties": {"a": {"$ref": "http://127.0.0.1:9/x.json"}}})
    with pytest.raises(PermanentError, match="points to nothing"):
        check_schema({"properties": {"a": {"$ref": "#/$defs/missing"}}})


def test_validation_never_fetches_a_remote_ref() -> None:
    errors = None
    with pytest.raises(Exception, match="Unresolvable"):
        errors = validation_errors(1, {"$ref": "http://127.0.0.1:9/never-asked.json"})
    assert errors is None


@pytest.mark.parametrize(("header", "seconds"), [("inf", 3600.0), ("1e12", 3600.0), ("nan", None), ("-5", 0.0),
                                                 ("12.5", 12.5)])
def test_retry_after_is_finite_and_capped(header: str, seconds: float | None) -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": header})) == seconds


def test_schema_instruction_joins_the_leading_system_message() -> None:
    from conveyor.llm.gateway import _with_instruction

    joined = _with_instruction([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
                               "Answer in JSON.")
    assert [m["role"] for m in joined] == ["system", "user"]
    assert joined[0]["content"] == "Be brief.\n\nAnswer in JSON."
    assert _with_instruction([{"role": "user", "content": "hi"}], "J")[0] == {"role": "system", "content": "J"}
