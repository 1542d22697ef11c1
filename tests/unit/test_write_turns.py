"""SQLite's single writer: one turn at a time, urgent waiters first, cancelled waiters skipped."""

from __future__ import annotations

import asyncio

from conveyor.store.turns import WriteTurns


async def test_turns_are_exclusive_and_urgent_waiters_go_first() -> None:
    turns, order = WriteTurns(), []
    holding = asyncio.Event()

    async def writer(name: str, urgent: bool) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)

    async def first() -> None:
        async with turns.turn():
            holding.set()
            await asyncio.sleep(0.01)
            order.append("first")

    task = asyncio.create_task(first())
    await holding.wait()
    await asyncio.gather(writer("normal-1", False), writer("urgent", True), writer("normal-2", False), task)
    assert order == ["first", "urgent", "normal-1", "normal-2"]


async def test_a_cancelled_waiter_does_not_block_the_others() -> None:
    turns = WriteTurns()
    async with turns.turn():
        waiting = asyncio.create_task(_take(turns))
        later = asyncio.create_task(_take(turns))
        await asyncio.sleep(0)
        waiting.cancel()
    assert await later == "got it"
    assert waiting.cancelled()
    async with turns.turn():  # free again
        pass


async def _take(turns: WriteTurns) -> str:
    async with turns.turn():
        return "got it"
