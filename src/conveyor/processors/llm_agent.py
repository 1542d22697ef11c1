"""The ``llm`` processor (Meibel's default agent kind): instructions + the definition's ``user_message`` +
the document's text → the agent's artifacts.

Each artifact schema of the agent is one output: JSON ones are answered with structured output and
validated against the schema; markdown and text ones are plain answers. An agent without artifact schemas
writes one markdown answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from conveyor.llm.gateway import Caller, CallOptions, LLMGateway
from conveyor.llm.structured import check_schema
from conveyor.processors.base import Artifact, ArtifactType, ItemInput
from conveyor.processors.documents import DocumentReader, PromptDefaults, clip, prompt

DEFAULT_INPUT_CHARS = 24_000
DEFAULT_MAX_TOKENS = 1024
PROMPT = PromptDefaults(instructions="You are a careful assistant that works on the document the user gives you.",
                        request="Summarise this document.")


class LLMProcessor:
    kind: ClassVar[str] = "llm"

    def __init__(self, documents: DocumentReader, llm: LLMGateway) -> None:
        self._documents = documents
        self._llm = llm

    async def run(self, item: ItemInput, options: Mapping[str, Any]) -> list[Artifact]:
        document = await self._documents.document(item, options)
        text = clip(document.text, int(options.get("max_input_chars") or DEFAULT_INPUT_CHARS))
        messages = prompt(PROMPT, options, f"Document {item.name!r}", text)
        call = CallOptions.from_options(options, max_tokens=DEFAULT_MAX_TOKENS)
        caller = Caller(item.run_id, item.usage)
        specs = list(options.get("artifact_specs") or ()) or [{"name": "markdown", "type": "markdown"}]
        return [await self._artifact(spec, messages, call, caller) for spec in specs]

    async def _artifact(self, spec: Mapping[str, Any], messages: list[dict[str, str]], call: CallOptions,
                        caller: Caller) -> Artifact:
        kind = _artifact_type(spec.get("type"))
        name = str(spec.get("name") or kind.value)
        if kind is ArtifactType.JSON:
            schema = check_schema(spec.get("schema_def") or {"type": "object"})
            return Artifact.json(await self._llm.json(messages, schema, call, caller), name=name)
        answer = await self._llm.chat(messages, call, caller)
        return Artifact(name=name, type=kind, data=answer.content.encode())


def _artifact_type(value: Any) -> ArtifactType:
    """The artifact's type; ones an LLM cannot write as text (pdf, binary) become markdown."""
    try:
        kind = ArtifactType(str(value or "markdown"))
    except ValueError:
        return ArtifactType.MARKDOWN
    return ArtifactType.MARKDOWN if kind in (ArtifactType.PDF, ArtifactType.BINARY) else kind
