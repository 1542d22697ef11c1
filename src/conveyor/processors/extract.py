"""The ``extract`` processor: fields by JSON Schema, read from a document by an LLM.

The schema is the agent's ``additional_properties.schema`` or its first JSON artifact schema. The document
is parsed, cut into page-aligned chunks, and each chunk is asked for the schema's JSON (structured output,
validated, repaired when invalid — see :mod:`conveyor.llm.gateway`). Chunk answers merge field by field:
the first non-empty value wins and lists are joined. Outputs: the object (``NAME.json``) and the page each
top-level field was found on (``NAME.sources.json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from conveyor.errors import PermanentError
from conveyor.llm.gateway import Caller, CallOptions, LLMGateway
from conveyor.llm.structured import check_schema, validation_errors
from conveyor.processors.base import Artifact, ItemInput
from conveyor.processors.documents import (
    DEFAULT_CHUNK_CHARS,
    Chunk,
    DocumentReader,
    PromptDefaults,
    chunk_pages,
    prompt,
)

PROMPT = PromptDefaults(
    instructions="You extract structured data from documents. Use only what the document says; "
                 "use null for a field the document does not give.",
    request="Extract the fields from this document.")
DEFAULT_MAX_TOKENS = 1024
DEFAULT_MAX_CHUNKS = 40
"""About 480,000 characters: more is refused rather than paid for chunk by chunk."""


def extraction_schema(options: Mapping[str, Any]) -> dict[str, Any]:
    """The agent's inline schema, else its first JSON artifact schema."""
    inline = options.get("schema")
    if inline is not None:
        return check_schema(inline)
    for spec in options.get("artifact_specs") or ():
        if spec.get("type", "json") == "json" and isinstance(spec.get("schema_def"), dict):
            return check_schema(spec["schema_def"])
    raise PermanentError("an extract agent needs a JSON Schema: additional_properties.schema, "
                         "or a JSON artifact schema in its artifacts")


class ExtractProcessor:
    kind: ClassVar[str] = "extract"

    def __init__(self, documents: DocumentReader, llm: LLMGateway) -> None:
        self._documents = documents
        self._llm = llm

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        schema = extraction_schema(options)
        document = await self._documents.document(item, options)
        chunks = chunk_pages(document.pages, int(options.get("chunk_chars") or DEFAULT_CHUNK_CHARS))
        most = int(options.get("max_chunks") or DEFAULT_MAX_CHUNKS)
        if len(chunks) > most:
            raise PermanentError(f"the document is {len(chunks)} chunks long and this agent reads at most {most} "
                                 "(additional_properties.max_chunks; pages narrows the document)")
        call = CallOptions.from_options(options, max_tokens=DEFAULT_MAX_TOKENS)
        caller = Caller(item.run_id, item.usage)
        answers = [await self._llm.json(_messages(item.name, chunk, options), schema, call, caller)
                   for chunk in chunks]
        value, origin = merge(answers)
        if validation_errors(value, schema):  # merging valid parts broke a rule: keep one valid answer
            value, origin = answers[0], dict.fromkeys(_keys(answers[0]), 0)
        pages = document.pages
        return [Artifact.json(value), Artifact.json(source_pages(value, origin, chunks, pages), name="sources")]


def _messages(name: str, chunk: Chunk, options: Mapping[str, Any]) -> list[dict[str, str]]:
    where = f"page {chunk.first_page}" if chunk.first_page == chunk.last_page else \
        f"pages {chunk.first_page}-{chunk.last_page}"
    return prompt(PROMPT, options, f"Document {name!r}, {where}", chunk.text)


def merge(answers: Sequence[Any]) -> tuple[Any, dict[str, int]]:
    """Chunk answers as one: per top-level field, the first non-empty value (lists joined), and the index
    of the answer each field came from."""
    if not answers or not all(isinstance(answer, dict) for answer in answers):
        return (answers[0] if answers else {}), {}
    merged: dict[str, Any] = {}
    origin: dict[str, int] = {}
    for index, answer in enumerate(answers):
        for key, value in answer.items():
            if key not in merged or _empty(merged[key]):
                merged[key], origin[key] = value, index
            elif isinstance(merged[key], list) and isinstance(value, list):
                merged[key] = merged[key] + [entry for entry in value if entry not in merged[key]]
    return merged, origin


def source_pages(value: Any, origin: Mapping[str, int], chunks: Sequence[Chunk],
                 pages: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    """Per top-level field, the page whose text holds its value (else the first page of its chunk)."""
    if not isinstance(value, dict):
        return {}
    found: dict[str, int | None] = {}
    for key, field_value in value.items():
        if _empty(field_value) or key not in origin:
            found[key] = None
            continue
        chunk = chunks[min(origin[key], len(chunks) - 1)]
        found[key] = _page_with(field_value, pages, chunk) or chunk.first_page
    return found


def _page_with(value: Any, pages: Sequence[Mapping[str, Any]], chunk: Chunk) -> int | None:
    if isinstance(value, dict | list | bool):
        return None
    needle = str(value).strip().lower()
    for page in pages:
        number = int(page["page"])
        if chunk.first_page <= number <= chunk.last_page and needle in str(page.get("text") or "").lower():
            return number
    return None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _keys(value: Any) -> list[str]:
    return list(value) if isinstance(value, dict) else []
