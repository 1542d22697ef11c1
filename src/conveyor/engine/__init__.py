"""Runs runs: a port with a local (asyncio, durable through the database) adapter."""
