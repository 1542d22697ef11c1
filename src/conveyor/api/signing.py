"""Presigned download URLs: a file's bytes for anyone holding an unexpired URL signed by this server.

The signature is an HMAC-SHA256, under the server's signing key, of the project, the file id and the
expiry time; nothing is stored. Without ``CONVEYOR_SIGNING_KEY`` the key is random per process, so URLs
stop working when the server restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from conveyor.errors import AuthenticationError

DEFAULT_SECONDS = 3600
MAX_SECONDS = 7 * 24 * 3600


class UrlSigner:
    def __init__(self, key: str | None) -> None:
        self._key = (key or secrets.token_hex(32)).encode()

    def _signature(self, project_id: str, file_id: str, expires: int) -> str:
        message = f"{project_id}\n{file_id}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def url(self, route: str, project_id: str, file_id: str,
            seconds: int = DEFAULT_SECONDS) -> tuple[str, datetime]:
        """``route`` (the download route's URL for ``file_id``) signed until the returned expiry time."""
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=min(max(seconds, 1), MAX_SECONDS))
        expires = int(expires_at.timestamp())
        signature = self._signature(project_id, file_id, expires)
        query = f"project={project_id}&expires={expires}&signature={signature}"
        return f"{route}?{query}", expires_at

    def check(self, project_id: str, file_id: str, expires: int, signature: str, now: datetime | None = None) -> None:
        """401 unless the signature is this server's for these values and the URL has not expired."""
        wanted = self._signature(project_id, file_id, expires)
        if not hmac.compare_digest(wanted, signature) or expires < (now or datetime.now(UTC)).timestamp():
            raise AuthenticationError("the download URL is invalid or has expired")
