"""API keys: generated once, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from conveyor.errors import AuthenticationError, NotFoundError
from conveyor.store.models import ApiKey, Project
from conveyor.store.projects import ProjectsRepo

KEY_PREFIX = "cvk_"
DEFAULT_PROJECT_NAME = "default"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Bootstrap:
    """The default project, and the key created for it now (None if it existed already)."""

    project: Project
    new_key: str | None


class AuthService:
    """Keys and the projects they open. Successful look-ups are cached for ``cache_seconds``; a revoke in
    this process takes effect at once, one made elsewhere (another replica, the CLI) within that time."""

    def __init__(self, projects: ProjectsRepo, cache_seconds: float = 5.0) -> None:
        self._projects = projects
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Project]] = {}

    async def bootstrap(self, pinned_key: str | None, *, make_key: bool = True) -> Bootstrap:
        """Ensure the default project; with ``make_key``, give it a first key if no key exists yet.

        A pinned key (``CONVEYOR_API_KEY``) is registered if new, and then no key is generated.
        """
        project = await self._projects.first()
        if project is None:
            project = await self._projects.create(DEFAULT_PROJECT_NAME)
        new_key: str | None = None
        if make_key and pinned_key is None and not await self._projects.list_keys():
            new_key, _ = await self.create_key(project.id, "initial")
        if pinned_key is not None and await self._projects.key_by_hash(hash_key(pinned_key)) is None:
            await self._projects.add_key(project.id, "pinned (CONVEYOR_API_KEY)", hash_key(pinned_key),
                                         pinned_key[:8])
        return Bootstrap(project, new_key)

    async def create_project(self, name: str) -> Project:
        return await self._projects.create(name)

    async def create_key(self, project_id: str | None, name: str) -> tuple[str, ApiKey]:
        """A new key for ``project_id`` (default project when None): returns (secret, row)."""
        if project_id is None:
            project = await self._projects.first()
            if project is None:
                project = await self._projects.create(DEFAULT_PROJECT_NAME)
            project_id = project.id
        elif await self._projects.get(project_id) is None:
            raise NotFoundError(f"project {project_id} not found")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = await self._projects.add_key(project_id, name, hash_key(secret), secret[:8])
        return secret, row

    async def list_keys(self) -> list[ApiKey]:
        return await self._projects.list_keys()

    async def revoke_key(self, key_id: str) -> None:
        if not await self._projects.revoke_key(key_id):
            raise NotFoundError(f"API key {key_id} not found or already revoked")
        self._cache.clear()

    async def authenticate(self, secret: str | None) -> Project:
        if not secret:
            raise AuthenticationError("missing API key: send Meibel-API-Key or Authorization: Bearer")
        digest = hash_key(secret)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        key = await self._projects.key_by_hash(digest)
        project = await self._projects.get(key.project_id) if key is not None else None
        if project is None:
            raise AuthenticationError("invalid or revoked API key")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self._cache_seconds, project)
        return project
