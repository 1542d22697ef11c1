"""List endpoints sort and page as asked."""

from __future__ import annotations

from typing import Any


async def test_artifact_schemas_sort_and_page(app_client: Any) -> None:
    client, _core = app_client
    for name in ("Charlie", "Alpha", "Bravo"):
        body = {"display_name": name, "schema_def": {"type": "object"}}
        assert (await client.post("/v2/artifact-schemas", json=body)).status_code == 201

    async def names(**params: Any) -> list[str]:
        response = await client.get("/v2/artifact-schemas", params=params)
        assert response.status_code == 200
        return [s["name"] for s in response.json()["data"]]

    assert await names() == ["charlie", "alpha", "bravo"], "creation order by default"
    assert await names(sort_by="name") == ["alpha", "bravo", "charlie"]
    assert await names(sort_by="name", sort_order="desc") == ["charlie", "bravo", "alpha"]
    assert await names(sort_by="name", offset=1, limit=1) == ["bravo"]
    bad = await client.get("/v2/artifact-schemas", params={"sort_by": "size"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "sort_by"]
