"""Limits that protect the server: oversized JSON bodies answer 413, declared or streamed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

from tests.support.inprocess import running_app, test_settings


async def test_oversized_json_bodies_answer_413(tmp_path: Path) -> None:
    async with running_app(test_settings(tmp_path / "home", max_request_bytes=2048)) as (client, _core):
        small = await client.post("/v2/datasources", json={"name": "ok"})
        assert small.status_code == 201
        big = await client.post("/v2/datasources", json={"name": "x", "description": "y" * 5000})
        assert big.status_code == 413 and "2048" in big.json()["detail"]

        async def streamed() -> AsyncIterator[bytes]:
            yield b'{"name": "x", "description": "'
            for _ in range(10):
                yield b"z" * 1000
            yield b'"}'

        chunked = await client.post("/v2/datasources", content=streamed(),
                                    headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        names = [d["name"] for d in (await client.get("/v2/datasources")).json()["datasources"]]
        assert names == ["ok"], "a rejected body creates nothing"


async def test_uploads_are_not_capped_by_the_json_limit(tmp_path: Path) -> None:
    async with running_app(test_settings(tmp_path / "home", max_request_bytes=2048)) as (client, _core):
        ds = (await client.post("/v2/datasources", json={"name": "d"})).json()["id"]
        payload = json.dumps({"rows": list(range(3000))}).encode()
        response = await client.post(f"/v2/datasources/{ds}/content", files={"files": ("big.json", payload)})
        assert response.status_code == 202 and response.json()["estimated_size"] == len(payload)
