"""Pure parts of the LlamaCloud face: presets → agent specs, markdown → structured items, page tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from llama_cloud.types.parsing_get_response import ItemsPageStructuredResultPage

from conveyor.api.llamacloud import pages, presets
from conveyor.api.llamacloud.items import items, plain
from conveyor.api.signing import UrlSigner
from conveyor.errors import AuthenticationError, InvalidInputError

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}


def test_presets_cover_the_parse_tiers_and_an_extract_tier() -> None:
    parse = {p.tier: p for p in presets.PRESETS.values() if p.product_type == "parse_v2"}
    assert set(parse) == {"fast", "cost_effective", "agentic", "agentic_plus"}
    assert {p.id for p in parse.values()} == {"cfg-PARSE_FAST", "cfg-PARSE_COST_EFFECTIVE", "cfg-PARSE_AGENTIC",
                                              "cfg-PARSE_AGENTIC_PLUS"}
    assert any(p.product_type == "extract_v2" for p in presets.PRESETS.values())


@pytest.mark.parametrize(("preset", "ocr"), [("cfg-PARSE_FAST", "off"), ("cfg-PARSE_COST_EFFECTIVE", "auto"),
                                             ("cfg-PARSE_AGENTIC", "auto"), ("cfg-PARSE_AGENTIC_PLUS", "auto")])
def test_parse_presets_choose_ocr(preset: str, ocr: str) -> None:
    spec = presets.preset_spec(presets.PRESETS[preset])
    assert spec["type"] == "parse"
    assert spec["additional_properties"] == {"ocr": ocr}
    assert presets.product_type_of(spec) == "parse_v2"


def test_extract_configuration_is_an_extract_agent_with_its_schema_and_prompt() -> None:
    spec = presets.agent_spec("invoices", {"product_type": "extract_v2", "data_schema": SCHEMA, "tier": "agentic",
                                           "system_prompt": "Amounts in USD."})
    assert spec["type"] == "extract"
    assert spec["additional_properties"] == {"ocr": "auto", "schema": SCHEMA}
    assert spec["instructions"] == "Amounts in USD."
    assert presets.parameters_of(spec) == {"product_type": "extract_v2", "data_schema": SCHEMA, "tier": "agentic",
                                           "system_prompt": "Amounts in USD."}


@pytest.mark.parametrize(("parameters", "linked", "tier"), [
    ({"tier": "turbo"}, None, "fast"),
    ({"tier": "agentic"}, None, "agentic"),
    ({}, None, "cost_effective"),
    ({"tier": "agentic"}, "fast", "fast"),
    ({"tier": "agentic", "parse_tier": "cost_effective"}, "fast", "cost_effective"),
])
def test_extract_parse_tier(parameters: dict[str, str], linked: str | None, tier: str) -> None:
    assert presets.extract_parse_tier(parameters, linked) == tier


def test_markdown_becomes_items_the_sdk_reads() -> None:
    markdown = ("# Report\n\nSome **bold** text\ncontinued.\n\n- one\n- two\n\n1. first\n2. second\n\n"
                "| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n\ny = 2\n```")
    found = items(markdown)
    assert [i["type"] for i in found] == ["heading", "text", "list", "list", "table", "code"]
    page = ItemsPageStructuredResultPage.model_validate(
        {"page_number": 1, "page_width": 0.0, "page_height": 0.0, "success": True, "items": found})
    heading, text, bullets, numbers, table, code = page.items
    assert (heading.level, heading.value) == (1, "Report")  # type: ignore[union-attr]
    assert text.value == "Some bold text continued."  # type: ignore[union-attr]
    assert [i.value for i in bullets.items] == ["one", "two"]  # type: ignore[union-attr]
    assert numbers.ordered and not bullets.ordered  # type: ignore[union-attr]
    assert table.rows == [["a", "b"], ["1", "2"]] and table.csv == "a,b\n1,2\n"  # type: ignore[union-attr]
    assert code.value == "x = 1\n\ny = 2" and code.language == "python"  # type: ignore[union-attr]


def test_plain_drops_inline_markup() -> None:
    assert plain("see [the docs](http://x) and **this** `code`") == "see the docs and this code"


def test_page_tokens_round_trip_and_bad_tokens_are_422() -> None:
    assert pages.offset_of(pages.encode(pages.OFFSET, "120")) == 120
    assert pages.cursor_of(pages.cursor_token("el_01abc")) == "el_01abc"
    assert pages.next_offset_token(0, 50, 50) is None and pages.cursor_token(None) is None
    assert pages.offset_of(pages.next_offset_token(0, 50, 51)) == 50
    for bad in ("!!!", "bm90IGFuIGlk!", pages.encode(pages.OFFSET, "el_x"), pages.cursor_token("el_1")):
        with pytest.raises(InvalidInputError):
            pages.offset_of(bad)
    with pytest.raises(InvalidInputError):
        pages.cursor_of(pages.encode(pages.OFFSET, "3"))


def test_page_ranges_become_the_pages_option() -> None:
    fast = {"product_type": "parse_v2", "tier": "fast", "version": "latest"}
    assert presets.agent_spec("a", {**fast, "page_ranges": {"target_pages": "1,3-4"}})["additional_properties"] == \
        {"ocr": "off", "pages": "1,3-4"}
    assert presets.agent_spec("a", {**fast, "page_ranges": {"max_pages": 2}})["additional_properties"] == \
        {"ocr": "off", "pages": "1-2"}
    extract = presets.agent_spec("b", {"product_type": "extract_v2", "data_schema": SCHEMA, "max_pages": 3})
    assert extract["additional_properties"]["pages"] == "1-3"


def test_presigned_urls_expire_and_belong_to_one_signer() -> None:
    signer = UrlSigner("key")
    url, expires_at = signer.url("http://h/llamacloud/downloads/dfl-1", "prj_a", "dfl-1", seconds=60)
    query = httpx.URL(url).params
    expires, signature = int(query["expires"]), query["signature"]
    signer.check("prj_a", "dfl-1", expires, signature)
    with pytest.raises(AuthenticationError):
        signer.check("prj_a", "dfl-1", expires, signature, now=expires_at + timedelta(seconds=1))
    with pytest.raises(AuthenticationError):
        UrlSigner("other key").check("prj_a", "dfl-1", expires, signature)
    assert UrlSigner(None).url("r", "p", "f")[0] != UrlSigner(None).url("r", "p", "f")[0]
