"""Bad input answers 422 in FastAPI's HTTPValidationError shape; valid edge values pass; uploads fail cleanly.

One app serves the module (the checks leave little state behind and don't depend on each other).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from conveyor.services.core import Core
from tests.support.inprocess import running_app, test_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")
ECHO = {"callable": "tests.support.callables:echo"}


def validation_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The 422 body, checked to be ``{"detail": [{"loc": [...], "msg": str, "type": str}, ...]}``."""
    assert response.status_code == 422, f"{response.status_code}: {response.text}"
    body = response.json()
    assert isinstance(body, dict) and list(body) == ["detail"], body
    assert isinstance(body["detail"], list) and body["detail"], body
    for error in body["detail"]:
        assert isinstance(error["loc"], list) and error["loc"], error
        assert all(isinstance(part, str | int) for part in error["loc"]), error
        assert isinstance(error["msg"], str) and error["msg"], error
        assert isinstance(error["type"], str) and error["type"], error
    return list(body["detail"])


def assert_invalid(response: httpx.Response, *loc: str | int) -> list[dict[str, Any]]:
    """A 422 with an error whose ``loc`` ends with ``loc``."""
    errors = validation_errors(response)
    assert any(tuple(e["loc"][-len(loc):]) == loc for e in errors), f"no error at {loc}: {errors}"
    return errors


@dataclass
class Ids:
    client: httpx.AsyncClient
    core: Core
    datasource: str
    agent: str
    definition: str
    execution: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ids]:
    async with running_app(test_settings(tmp_path_factory.mktemp("validation") / "home")) as (client, core):
        ds = (await client.post("/v2/datasources", json={"name": "docs"})).json()["id"]
        await client.post(f"/v2/datasources/{ds}/content", files={"files": ("a.txt", b"hello", "text/plain")})
        agent = (await client.post("/v2/agents", json={"display_name": "echo", "type": "python",
                                                       "additional_properties": ECHO})).json()["id"]
        definition = (await client.post("/v2/batch-definitions", json={
            "name": "base", "agent_id": agent, "input_datasource_id": ds})).json()["id"]
        run = (await client.post(f"/v2/batch-definitions/id/{definition}/execute")).json()["execution_id"]
        yield Ids(client, core, ds, agent, definition, run)


def definition_body(api: Ids, **extra: Any) -> dict[str, Any]:
    return {"name": "d", "agent_id": api.agent, "input_datasource_id": api.datasource, **extra}


def legacy_body(api: Ids, execution: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "legacy", "agent": api.agent, "input": {"datasource_id": api.datasource},
                            **spec}
    if execution is not None:
        body["execution"] = execution
    return {"batch_spec_json": body}


# malformed JSON, wrong types, missing fields --------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v2/datasources"),
    ("POST", "/v2/agents"),
    ("POST", "/v2/artifact-schemas"),
    ("POST", "/v2/batch-definitions"),
    ("PUT", "/v2/batch-definitions/id/{definition}"),
    ("POST", "/v2/batch-executions"),
    ("POST", "/v2/datasources/{datasource}/data-elements/search"),
])
async def test_malformed_json_body(api: Ids, method: str, path: str) -> None:
    url = path.format(definition=api.definition, datasource=api.datasource)
    response = await api.client.request(method, url, content=b'{"name": "x",',
                                        headers={"content-type": "application/json"})
    errors = validation_errors(response)
    assert errors[0]["type"] == "json_invalid" and errors[0]["loc"][0] == "body"


@pytest.mark.parametrize(("method", "path", "body", "loc"), [
    ("POST", "/v2/datasources", {"name": 123}, ("body", "name")),
    ("POST", "/v2/agents", {"display_name": "a", "temperature": "hot"}, ("body", "temperature")),
    ("POST", "/v2/agents", {"display_name": ["a"]}, ("body", "display_name")),
    ("POST", "/v2/artifact-schemas", {"display_name": "s", "schema_def": "object"}, ("body", "schema_def")),
    ("POST", "/v2/batch-definitions", {"name": "d", "agent_id": "a", "input_datasource_id": "d",
                                       "concurrency": "many"}, ("body", "concurrency")),
    ("PUT", "/v2/batch-definitions/id/{definition}", {"retry_limit": [1]}, ("body", "retry_limit")),
    ("PUT", "/v2/batch-definitions/id/{definition}", {"filters": {"media_types": "text/plain"}},
     ("body", "filters", "media_types")),
    ("POST", "/v2/datasources/{datasource}/data-elements/search", {"regex_filter": 5}, ("body", "regex_filter")),
    ("POST", "/v2/datasources/{datasource}/downloads", {"data_element_ids": "el_1"}, ("body", "data_element_ids")),
    ("POST", "/v2/datasources", [{"name": "a list"}], ("body",)),
])
async def test_wrong_types(api: Ids, method: str, path: str, body: Any, loc: tuple[str, ...]) -> None:
    url = path.format(definition=api.definition, datasource=api.datasource)
    assert_invalid(await api.client.request(method, url, json=body), *loc)


@pytest.mark.parametrize(("path", "params", "loc"), [
    ("/v2/batch-executions/id/{execution}/items", {"limit": "ten"}, ("query", "limit")),
    ("/v2/batch-executions/id/{execution}/items", {"limit": "0"}, ("query", "limit")),
    ("/v2/batch-executions/id/{execution}/items", {"cursor": "-1"}, ("query", "cursor")),
    ("/v2/datasources/{datasource}/data-elements", {"limit": "1001"}, ("query", "limit")),
    ("/v2/agents", {"offset": "-1"}, ("query", "offset")),
])
async def test_wrong_query_values(api: Ids, path: str, params: dict[str, str], loc: tuple[str, ...]) -> None:
    url = path.format(execution=api.execution, datasource=api.datasource)
    assert_invalid(await api.client.get(url, params=params), *loc)


@pytest.mark.parametrize(("method", "path", "body", "loc"), [
    ("POST", "/v2/datasources", {}, ("body", "name")),
    ("POST", "/v2/agents", {"type": "parse"}, ("body", "display_name")),
    ("POST", "/v2/artifact-schemas", {"display_name": "s"}, ("body", "schema_def")),
    ("POST", "/v2/batch-definitions", {"name": "d", "input_datasource_id": "x"}, ("body", "agent_id")),
    ("POST", "/v2/batch-definitions", {"name": "d", "agent_id": "x"}, ("body", "input_datasource_id")),
    ("POST", "/v2/batch-executions", {}, ("body", "batch_spec_json")),
    ("POST", "/v2/batch-executions", {"batch_spec_json": {"name": "l", "agent": "a"}},
     ("body", "batch_spec_json", "input")),
    ("POST", "/v2/agents/{agent}/publish", {}, ("body", "commit_message")),
    ("POST", "/v2/datasources", None, ("body",)),
])
async def test_missing_required_fields(api: Ids, method: str, path: str, body: Any, loc: tuple[str, ...]) -> None:
    url = path.format(agent=api.agent)
    assert_invalid(await api.client.request(method, url, json=body), *loc)


async def test_missing_required_query_parameter(api: Ids) -> None:
    assert_invalid(await api.client.get("/v2/batch-definitions/catalog-urn"), "query", "catalog_urn")


# enums ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "body", "loc"), [
    ("POST", "/v2/artifact-schemas", {"display_name": "s", "schema_def": {}, "type": "xml"}, ("body", "type")),
    ("POST", "/v2/artifact-schemas", {"display_name": "s", "schema_def": {}, "storage_strategy": "disk"},
     ("body", "storage_strategy")),
    ("POST", "/v2/datasources/{datasource}/downloads", {"content": "zip"}, ("body", "content")),
    ("POST", "/v2/datasources/{datasource}/downloads/process", {"content": "zip"}, ("body", "content")),
    ("POST", "/v2/agents", {"display_name": "a", "type": "bogus"}, ("body", "type")),
    ("PUT", "/v2/agents/{agent}", {"type": "shell"}, ("body", "type")),
])
async def test_bad_enum_values(api: Ids, method: str, path: str, body: Any, loc: tuple[str, ...]) -> None:
    url = path.format(datasource=api.datasource, agent=api.agent)
    assert_invalid(await api.client.request(method, url, json=body), *loc)


async def test_artifact_schema_update_with_bad_type_forks_nothing(api: Ids) -> None:
    created = await api.client.post("/v2/artifact-schemas", json={"display_name": "s", "schema_def": {}})
    schema_id = created.json()["id"]
    assert_invalid(await api.client.put(f"/v2/artifact-schemas/{schema_id}", json={"type": "xml"}), "body", "type")
    assert (await api.client.get(f"/v2/artifact-schemas/{schema_id}")).json()["type"] == "json"


@pytest.mark.parametrize("agent_type", ["parse", "extract", "llm", "python"])
async def test_every_known_agent_type_is_accepted(api: Ids, agent_type: str) -> None:
    extra = {**ECHO, "schema": {"type": "object"}}  # what python and extract agents need
    response = await api.client.post("/v2/agents", json={"display_name": f"{agent_type} agent", "type": agent_type,
                                                         "additional_properties": extra})
    assert response.status_code == 201, response.text
    assert (await api.client.get(f"/v2/agents/{response.json()['id']}")).json()["type"] == agent_type


@pytest.mark.parametrize("status", ["DONE", "", "SUCCEEDED,FAILED"])
async def test_items_status_filter(api: Ids, status: str) -> None:
    url = f"/v2/batch-executions/id/{api.execution}/items"
    assert_invalid(await api.client.get(url, params={"status": status}), "query", "status")
    assert (await api.client.get(url, params={"status": "SUCCEEDED"})).status_code == 200


@pytest.mark.parametrize("params", [{"sort_by": "name"}, {"sort_by": "start_time;drop"}, {"sort_order": "up"},
                                    {"sort_order": ""}])
async def test_executions_list_sorting(api: Ids, params: dict[str, str]) -> None:
    assert_invalid(await api.client.get("/v2/batch-executions", params=params), "query", next(iter(params)))


@pytest.mark.parametrize("params", [{"sort_by": "status", "sort_order": "asc"},
                                    {"sort_by": "start_time", "sort_order": "desc"}])
async def test_executions_list_valid_sorting(api: Ids, params: dict[str, str]) -> None:
    response = await api.client.get("/v2/batch-executions", params=params)
    assert response.status_code == 200 and response.json()["pagination"]["total"] >= 1


# python agents --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [None, {}, {"callable": ""}, {"callable": "tests.support.callables.echo"},
                                   {"callable": 7}])
async def test_python_agent_needs_a_callable(api: Ids, extra: dict[str, Any] | None) -> None:
    before = (await api.client.get("/v2/agents")).json()["total"]
    body = {"display_name": "py", "type": "python", "additional_properties": extra}
    assert_invalid(await api.client.post("/v2/agents", json=body), "body", "additional_properties")
    assert (await api.client.get("/v2/agents")).json()["total"] == before, "a refused agent was stored"


async def test_switching_an_agent_to_python_needs_a_callable(api: Ids) -> None:
    agent = (await api.client.post("/v2/agents", json={"display_name": "p", "type": "parse"})).json()["id"]
    response = await api.client.put(f"/v2/agents/{agent}", json={"type": "python"})
    assert_invalid(response, "body", "additional_properties")
    assert (await api.client.get(f"/v2/agents/{agent}/versions")).json()["total"] == 1


# concurrency, retry_limit, cron, regex on the three ways to make a recipe ----------------------------------
async def send_recipe(api: Ids, how: str, **fields: Any) -> httpx.Response:
    """Create a definition, update the shared one, or create a legacy execution, with ``fields`` set."""
    if how == "create":
        return await api.client.post("/v2/batch-definitions", json=definition_body(api, **fields))
    if how == "update":
        return await api.client.put(f"/v2/batch-definitions/id/{api.definition}", json=fields)
    execution = {k: v for k, v in fields.items() if k in ("concurrency", "retry_limit")}
    filters = {"filters": fields["filters"]} if "filters" in fields else {}
    return await api.client.post("/v2/batch-executions", json=legacy_body(
        api, execution=execution or None, input={"datasource_id": api.datasource, **filters}))


def field_loc(how: str, name: str) -> tuple[str, ...]:
    return ("batch_spec_json", "execution", name) if how == "legacy" else ("body", name)


HOW = ["create", "update", "legacy"]
OUT_OF_RANGE = [("concurrency", 0), ("concurrency", 1000), ("concurrency", -5), ("retry_limit", -1),
                ("retry_limit", 1000)]
EDGES = [("concurrency", 1), ("concurrency", 999), ("retry_limit", 0), ("retry_limit", 999)]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
async def test_limits_out_of_range(api: Ids, how: str, name: str, value: int) -> None:
    before = await recipe_counts(api)
    assert_invalid(await send_recipe(api, how, **{name: value}), *field_loc(how, name))
    assert await recipe_counts(api) == before, "a refused request stored a definition or a version"


async def recipe_counts(api: Ids) -> tuple[int, int, int]:
    """(definitions, versions of the shared one, executions)."""
    listed = (await api.client.get("/v2/batch-definitions")).json()
    versions = (await api.client.get(f"/v2/batch-definitions/id/{api.definition}/versions")).json()
    runs = (await api.client.get("/v2/batch-executions")).json()
    return listed["pagination"]["total"], versions["pagination"]["total"], runs["pagination"]["total"]


async def recipe_of(api: Ids, how: str, response: httpx.Response) -> dict[str, Any]:
    """The definition the successful request made or changed."""
    assert response.status_code in (200, 201), response.text
    body = response.json()
    recipe_id = body["batch_definition_id"] if how == "legacy" else body["id"]
    recipe = await api.client.get(f"/v2/batch-definitions/id/{recipe_id}")
    assert recipe.status_code == 200
    result: dict[str, Any] = recipe.json()
    return result


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(("name", "value"), EDGES)
async def test_limits_at_the_edges_pass(api: Ids, how: str, name: str, value: int) -> None:
    recipe = await recipe_of(api, how, await send_recipe(api, how, **{name: value}))
    assert recipe[name] == value


@pytest.mark.parametrize("how", ["create", "update"])
@pytest.mark.parametrize("cron", ["not a cron", "61 * * * *", "* * * *", "0 0 32 * *", "@sometimes"])
async def test_invalid_cron(api: Ids, how: str, cron: str) -> None:
    before = await recipe_counts(api)
    assert_invalid(await send_recipe(api, how, recurrence_cron=cron), "body", "recurrence_cron")
    assert await recipe_counts(api) == before


@pytest.mark.parametrize("how", ["create", "update"])
@pytest.mark.parametrize("cron", ["*/5 * * * *", "0 9 * * 1-5 30"])
async def test_valid_cron_5_and_6_fields(api: Ids, how: str, cron: str) -> None:
    recipe = await recipe_of(api, how, await send_recipe(api, how, recurrence_cron=cron))
    assert recipe["recurrence_cron"] == cron


@pytest.mark.parametrize("how", HOW)
async def test_invalid_regex_in_filters(api: Ids, how: str) -> None:
    before = await recipe_counts(api)
    errors = validation_errors(await send_recipe(api, how, filters={"regex": "(["}))
    assert any(e["loc"][-1] == "regex" and "regular expression" in e["msg"] for e in errors), errors
    assert await recipe_counts(api) == before


@pytest.mark.parametrize("how", HOW)
async def test_valid_regex_in_filters_passes(api: Ids, how: str) -> None:
    recipe = await recipe_of(api, how, await send_recipe(api, how, filters={"regex": r"^a\.txt$"}))
    assert recipe["filters"]["regex"] == r"^a\.txt$"


async def test_invalid_regex_in_element_search(api: Ids) -> None:
    url = f"/v2/datasources/{api.datasource}/data-elements/search"
    assert_invalid(await api.client.post(url, json={"regex_filter": "(["}), "body", "regex_filter")
    found = await api.client.post(url, json={"regex_filter": r"a\.txt"})
    assert [e["name"] for e in found.json()["items"]] == ["a.txt"]


# uploads --------------------------------------------------------------------------------------------------
def multipart(*parts: bytes, boundary: str = "b0und") -> dict[str, Any]:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return {"content": body + b"--" + boundary.encode() + b"--\r\n",
            "headers": {"content-type": f"multipart/form-data; boundary={boundary}"}}


FIELD_ONLY = b'Content-Disposition: form-data; name="note"\r\n\r\nno file here'


@pytest.mark.parametrize("suffix", ["content", "content/process"])
@pytest.mark.parametrize(("request_kw", "loc"), [
    pytest.param(multipart(), ("body", "files"), id="multipart-without-parts"),
    pytest.param(multipart(FIELD_ONLY), ("body", "files"), id="multipart-without-file-parts"),
    pytest.param({"json": {"files": ["a.txt"]}}, ("header", "content-type"), id="json-body"),
    pytest.param({"content": b"raw bytes", "headers": {"content-type": "text/plain"}},
                 ("header", "content-type"), id="raw-body"),
    pytest.param({"content": b"x", "headers": {"content-type": "multipart/form-data"}},
                 ("header", "content-type"), id="multipart-without-boundary"),
    pytest.param({}, ("header", "content-type"), id="no-body"),
])
async def test_upload_without_files_is_refused(api: Ids, suffix: str, request_kw: dict[str, Any],
                                               loc: tuple[str, ...]) -> None:
    elements = f"/v2/datasources/{api.datasource}/data-elements"
    before = len((await api.client.get(elements)).json()["items"])
    response = await api.client.post(f"/v2/datasources/{api.datasource}/{suffix}", **request_kw)
    errors = assert_invalid(response, *loc)
    assert any("multipart" in e["msg"] or "files" in e["msg"] for e in errors), errors
    assert len((await api.client.get(elements)).json()["items"]) == before


@pytest.mark.parametrize("suffix", ["content", "content/process"])
async def test_upload_over_the_size_limit_answers_413_and_leaves_nothing(tmp_path: Path, suffix: str) -> None:
    settings = test_settings(tmp_path / "home", max_upload_bytes=1000)
    async with running_app(settings) as (client, _core):
        ds = (await client.post("/v2/datasources", json={"name": "small"})).json()["id"]
        too_big = await client.post(f"/v2/datasources/{ds}/{suffix}",
                                    files={"files": ("big.bin", b"x" * 1001, "application/octet-stream")})
        assert too_big.status_code == 413
        assert "1000" in too_big.json()["detail"]
        assert (await client.get(f"/v2/datasources/{ds}/data-elements")).json()["items"] == []
        assert list((settings.resolved_blob_dir / "tmp").iterdir()) == []
        at_limit = await client.post(f"/v2/datasources/{ds}/{suffix}",
                                     files={"files": ("fits.bin", b"y" * 1000, "application/octet-stream")})
        assert at_limit.status_code in (200, 202), at_limit.text
        items = (await client.get(f"/v2/datasources/{ds}/data-elements")).json()["items"]
        assert [(e["name"], e["size"]) for e in items] == [("fits.bin", 1000)]
        assert list((settings.resolved_blob_dir / "tmp").iterdir()) == []


# the LlamaCloud face --------------------------------------------------------------------------------------
LC = "/llamacloud"
PARSE_FAST = {"product_type": "parse_v2", "tier": "fast", "version": "latest"}


async def lc_directory(api: Ids) -> str:
    response = await api.client.post(f"{LC}/api/v1/beta/directories", json={"name": "lc"})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def lc_batch(configuration_id: str, job_type: str = "parse_v2", **extra: Any) -> dict[str, Any]:
    return {"config": {"job": {"configuration_id": configuration_id, "type": job_type}},
            "source_directory_id": "{directory}", **extra}


@pytest.mark.parametrize(("method", "path", "body", "loc"), [
    ("POST", "/api/v1/beta/directories", {}, ("body", "name")),
    ("POST", "/api/v1/beta/directories", {"name": ""}, ("body", "name")),
    ("POST", "/api/v1/beta/directories", {"name": "d", "type": "index"}, ("body", "type")),
    ("POST", "/api/v1/beta/directories", {"name": "d", "connector_subscription_id": "cs-1"},
     ("body", "connector_subscription_id")),
    ("PATCH", "/api/v1/beta/directories/{directory}", {"name": 5}, ("body", "name")),
    ("POST", "/api/v1/beta/directories/{directory}/files", {}, ("body", "file_id")),
    ("POST", "/api/v1/beta/configurations", {"name": "c"}, ("body", "parameters")),
    ("POST", "/api/v1/beta/configurations", {"name": "c", "parameters": {"tier": "fast"}}, ("body", "parameters")),
    ("POST", "/api/v1/beta/configurations", {"name": "c", "parameters": {"product_type": "parse_v2"}},
     ("body", "parameters", "parse_v2", "tier")),
    ("POST", "/api/v1/beta/configurations", {"name": "c", "parameters": {**PARSE_FAST, "tier": "turbo"}},
     ("body", "parameters", "parse_v2", "tier")),
    ("POST", "/api/v1/beta/configurations", {"name": "c", "parameters": {"product_type": "extract_v2"}},
     ("body", "parameters", "extract_v2", "data_schema")),
    ("POST", "/api/v1/beta/configurations",
     {"name": "c", "parameters": {"product_type": "extract_v2", "data_schema": {"type": "nonsense"}}},
     ("body", "parameters", "data_schema")),
    ("POST", "/api/v1/beta/configurations", {"name": "c", "parameters": {"product_type": "split_v1"}},
     ("body", "parameters")),
    ("POST", "/api/v2/batches", {"source_directory_id": "{directory}"}, ("body", "config")),
    ("POST", "/api/v2/batches", lc_batch("cfg-PARSE_FAST", "classify_v2"), ("body", "config", "job", "type")),
    ("POST", "/api/v2/batches", lc_batch("cfg-PARSE_FAST", "extract_v2"),
     ("body", "config", "job", "configuration_id")),
    ("POST", "/api/v2/batches", lc_batch("cfg-EXTRACT_AGENTIC", "extract_v2"),
     ("body", "config", "job", "configuration_id")),
    ("POST", "/api/v2/batches", lc_batch("cfg-PARSE_FAST", webhook_configurations=[{"webhook_url": "ftp://x"}]),
     ("body", "webhook_configurations", 0, "webhook_url")),
    ("POST", "/api/v2/batches", lc_batch("cfg-PARSE_FAST", webhook_configurations=[{"webhook_headers": {}}]),
     ("body", "webhook_configurations", 0, "webhook_url")),
    ("POST", "/api/v2/batches", lc_batch("cfg-PARSE_FAST", webhook_configuration_ids=["whc-1"]),
     ("body", "webhook_configuration_ids")),
])
async def test_llamacloud_invalid_bodies(api: Ids, method: str, path: str, body: Any,
                                         loc: tuple[str | int, ...]) -> None:
    directory = await lc_directory(api)
    filled = json.loads(json.dumps(body).replace("{directory}", directory))
    response = await api.client.request(method, LC + path.format(directory=directory), json=filled)
    assert_invalid(response, *loc)


@pytest.mark.parametrize(("path", "params", "loc"), [
    ("/api/v2/batches", {"status": "DONE"}, ("query", "status")),
    ("/api/v2/batches", {"page_size": "0"}, ("query", "page_size")),
    ("/api/v2/batches", {"page_token": "%%%"}, ("query", "page_token")),
    ("/api/v2/batches", {"created_at_on_or_after": "yesterday"}, ("query", "created_at_on_or_after")),
    ("/api/v1/beta/directories", {"type": "shared"}, ("query", "type")),
    ("/api/v1/beta/directories", {"page_size": "1001"}, ("query", "page_size")),
    ("/api/v1/beta/directories/{directory}/files", {"page_token": "bm90IGFuIGlk!"}, ("query", "page_token")),
    ("/api/v1/beta/files", {"order_by": "name"}, ("query", "order_by")),
    ("/api/v1/beta/files/dfl-1/content", {"expires_at_seconds": "0"}, ("query", "expires_at_seconds")),
    ("/api/v1/beta/configurations", {"product_type": "video"}, ("query", "product_type", 0)),
])
async def test_llamacloud_invalid_queries(api: Ids, path: str, params: dict[str, str], loc: tuple[str, ...]) -> None:
    directory = await lc_directory(api)
    assert_invalid(await api.client.get(LC + path.format(directory=directory), params=params), *loc)


async def test_llamacloud_uploads_need_a_file_and_json_metadata(api: Ids) -> None:
    directory = await lc_directory(api)
    url = f"{LC}/api/v1/beta/directories/{directory}/files/upload"
    assert_invalid(await api.client.post(url, data={"display_name": "x"}, files={}), "header", "content-type")
    assert_invalid(await api.client.post(url, files={"display_name": (None, "x")}), "body", "upload_file")
    bad = await api.client.post(url, files={"metadata": (None, "{not json"), "upload_file": ("a.txt", b"a")})
    assert_invalid(bad, "body", "metadata")
    listed = await api.client.get(f"{LC}/api/v1/beta/directories/{directory}/files")
    assert listed.json()["items"] == [], "a refused upload left a file behind"
