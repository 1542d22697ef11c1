"""LlamaCloud configurations as Conveyor agents: the built-in presets and saved parameters → agent specs.

A configuration (preset or saved) is an agent of type ``parse`` or ``extract``. Its LlamaCloud parameters
are kept verbatim in the spec (``llamacloud_parameters``) so they read back as sent; what Conveyor applies
of them becomes processor options:

- parse tiers choose how PDFs are read. ``fast`` reads the text layer only (``ocr: off``); the others
  OCR the pages that have no text layer (``ocr: auto``) when the server has OCR. There is no vision LLM
  here, so ``agentic`` and ``agentic_plus`` parse as ``cost_effective`` does.
- extract runs the ``extract`` processor with ``data_schema`` as its JSON Schema and ``system_prompt`` as
  its instructions, over the document parsed with ``parse_tier`` (else the tier the extract tier implies).
- ``target_pages`` / ``max_pages`` (``page_ranges`` for parse) choose the pages, as the ``pages`` option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PARAMETERS_KEY = "llamacloud_parameters"
PRESET_PREFIX = "cfg-"
DEFAULT_VERSION = "latest"
DEFAULT_EXTRACT_TIER = "cost_effective"

PARSE_TIER_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "fast": {"ocr": "off"},
    "cost_effective": {"ocr": "auto"},
    "agentic": {"ocr": "auto"},
    "agentic_plus": {"ocr": "auto"},
}
EXTRACT_PARSE_TIER = {"turbo": "fast", "cost_effective": "cost_effective", "agentic": "agentic",
                      "agentic_plus": "agentic_plus"}


@dataclass(frozen=True)
class Preset:
    """A built-in configuration: its id, product and tier."""

    id: str
    product_type: str
    tier: str
    description: str

    @property
    def name(self) -> str:
        return self.id.removeprefix(PRESET_PREFIX)

    def parameters(self) -> dict[str, Any]:
        if self.product_type == "parse_v2":
            return {"product_type": "parse_v2", "tier": self.tier, "version": DEFAULT_VERSION}
        return {"product_type": "extract_v2", "tier": self.tier, "data_schema": {}}


PRESETS: Mapping[str, Preset] = {p.id: p for p in (
    Preset("cfg-PARSE_FAST", "parse_v2", "fast", "text layer only, no OCR"),
    Preset("cfg-PARSE_COST_EFFECTIVE", "parse_v2", "cost_effective", "text layer, OCR where a page has none"),
    Preset("cfg-PARSE_AGENTIC", "parse_v2", "agentic", "as COST_EFFECTIVE (no vision LLM here)"),
    Preset("cfg-PARSE_AGENTIC_PLUS", "parse_v2", "agentic_plus", "as COST_EFFECTIVE (no vision LLM here)"),
    Preset("cfg-EXTRACT_COST_EFFECTIVE", "extract_v2", "cost_effective",
           "extract tier for saved configurations: parse as COST_EFFECTIVE, then the LLM"),
    Preset("cfg-EXTRACT_AGENTIC", "extract_v2", "agentic",
           "extract tier for saved configurations: parse as AGENTIC, then the LLM"),
)}


def parse_options(tier: str) -> dict[str, Any]:
    return dict(PARSE_TIER_OPTIONS.get(tier, PARSE_TIER_OPTIONS["cost_effective"]))


def extract_parse_tier(parameters: Mapping[str, Any], linked_parse_tier: str | None = None) -> str:
    """The parse tier an extract configuration reads documents with: ``parse_tier``, else the tier of its
    ``parse_config_id`` (``linked_parse_tier``), else the one its own tier implies."""
    explicit = parameters.get("parse_tier")
    if explicit:
        return str(explicit)
    if linked_parse_tier:
        return linked_parse_tier
    return EXTRACT_PARSE_TIER.get(str(parameters.get("tier") or DEFAULT_EXTRACT_TIER), "cost_effective")


def page_selection(target_pages: Any, max_pages: Any) -> dict[str, Any]:
    """``target_pages`` ("1,3,5-8") or ``max_pages`` (n → "1-n") as the parse processor's ``pages`` option."""
    if target_pages:
        return {"pages": str(target_pages)}
    if isinstance(max_pages, int) and not isinstance(max_pages, bool) and max_pages > 0:
        return {"pages": f"1-{max_pages}"}
    return {}


def agent_spec(name: str, parameters: Mapping[str, Any], linked_parse_tier: str | None = None) -> dict[str, Any]:
    """The agent spec for a configuration's parameters (validated by the wire models already)."""
    params = dict(parameters)
    if params["product_type"] == "parse_v2":
        ranges = params.get("page_ranges") or {}
        options = {**parse_options(str(params["tier"])),
                   **page_selection(ranges.get("target_pages"), ranges.get("max_pages"))}
        return {"display_name": name, "type": "parse", "description": "LlamaCloud parse_v2 configuration",
                "additional_properties": options, PARAMETERS_KEY: params}
    options = {**parse_options(extract_parse_tier(params, linked_parse_tier)), "schema": params["data_schema"],
               **page_selection(params.get("target_pages"), params.get("max_pages"))}
    return {"display_name": name, "type": "extract", "additional_properties": options,
            "description": "LlamaCloud extract_v2 configuration", "instructions": params.get("system_prompt"),
            PARAMETERS_KEY: params}


def preset_spec(preset: Preset) -> dict[str, Any]:
    """A parse preset's agent spec. Extract presets have no data schema, so they make no agent."""
    return agent_spec(preset.name, preset.parameters())


def parameters_of(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The LlamaCloud parameters an agent was made from, or None for an agent of another face."""
    value = spec.get(PARAMETERS_KEY)
    return dict(value) if isinstance(value, dict) else None


def product_type_of(spec: Mapping[str, Any]) -> str | None:
    params = parameters_of(spec)
    return str(params["product_type"]) if params else None
