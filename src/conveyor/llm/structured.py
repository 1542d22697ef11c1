"""Schema-valid JSON from a chat model: request formats per dialect, reading JSON out of an answer,
validation messages a model can act on, and the bounds that keep a small model from rambling."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from conveyor.errors import PermanentError
from conveyor.llm.config import StructuredOutput

DIALECT_ORDER = (StructuredOutput.JSON_SCHEMA, StructuredOutput.JSON_OBJECT, StructuredOutput.PROMPT)
MAX_STRING_LENGTH = 500
"""``maxLength`` given to strings without one when the server turns the schema into a grammar."""
MAX_ARRAY_ITEMS = 50
MAX_ERRORS_SHOWN = 5
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_NO_RETRIEVAL = Registry()  # a $ref is never fetched: only references inside the schema resolve
_SELF = "urn:conveyor:schema"


def check_schema(schema: Any) -> dict[str, Any]:
    """``schema`` if it is a usable JSON Schema object, else :class:`PermanentError` saying why."""
    if not isinstance(schema, dict):
        raise PermanentError("the extraction schema must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        raise PermanentError(f"the extraction schema is not a valid JSON Schema: {e.message}") from e
    _check_references(schema)
    return schema


def _check_references(schema: dict[str, Any]) -> None:
    """Every ``$ref`` points inside the schema and resolves there (nothing is fetched from elsewhere)."""
    resolver = Registry().with_resource(
        _SELF, Resource.from_contents(schema, default_specification=DRAFT202012)).resolver(base_uri=_SELF)
    for ref in _references(schema):
        if not ref.startswith("#"):
            raise PermanentError(f"the extraction schema refers outside itself ($ref {ref!r}); "
                                 "put the definition under $defs")
        try:
            resolver.lookup(ref)
        except Unresolvable as e:
            raise PermanentError(f"the extraction schema's $ref {ref!r} points to nothing") from e


def _references(node: Any) -> list[str]:
    if isinstance(node, list):
        return [ref for entry in node for ref in _references(entry)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    return own + [ref for value in node.values() for ref in _references(value)]


def response_format(dialect: StructuredOutput, schema: dict[str, Any]) -> dict[str, Any] | None:
    if dialect is StructuredOutput.JSON_SCHEMA:
        return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": False}}
    if dialect is StructuredOutput.JSON_OBJECT:
        return {"type": "json_object", "schema": bounded(schema)}
    return None


def bounded(schema: Any) -> Any:
    """A copy of ``schema`` where every string has a ``maxLength`` and every array a ``maxItems``.

    A grammar-constrained small model may otherwise fill a string until it runs out of tokens.
    """
    if isinstance(schema, list):
        return [bounded(entry) for entry in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: bounded(value) for key, value in schema.items()}
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "string" in kinds and "enum" not in schema and "const" not in schema:
        copy.setdefault("maxLength", MAX_STRING_LENGTH)
    if "array" in kinds:
        copy.setdefault("maxItems", MAX_ARRAY_ITEMS)
    return copy


def parse_json(content: str) -> Any:
    """The first JSON value in a model's answer (code fences and chatter around it ignored)."""
    fenced = _FENCE.search(content)
    text = fenced.group(1) if fenced else content
    start = next((i for i, char in enumerate(text) if char in "{["), None)
    if start is None:
        raise ValueError("the answer holds no JSON object")
    value, _ = json.JSONDecoder().raw_decode(text[start:])
    return value


def validation_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """What is wrong with ``value`` under ``schema``, as short sentences (empty when valid)."""
    validator = Draft202012Validator(schema, registry=_NO_RETRIEVAL)
    errors = sorted(validator.iter_errors(value), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in errors[:MAX_ERRORS_SHOWN]]


def schema_instruction(schema: dict[str, Any]) -> str:
    return ("Answer with one JSON object and nothing else. It must validate against this JSON Schema:\n"
            + json.dumps(schema, ensure_ascii=False))


def repair_instruction(problem: str) -> str:
    return (f"That answer cannot be used: {problem}. Reply again with only the corrected JSON object, "
            "following the schema exactly.")
