"""API keys from the command line, and the first start of `conveyor serve`: it prints one key, once, and
the database keeps only its hash."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_cli_run import cli_env
from tests.support.corpus import REPO
from tests.support.server import free_port

KEY = re.compile(r"cvk_[A-Za-z0-9_-]{20,}")


def keys(home: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "conveyor.cli.main", "keys", *args], env=cli_env(home),
                          capture_output=True, text=True, timeout=60, check=True, cwd=REPO)
    return done.stdout + done.stderr


def serve_once(home: Path) -> tuple[str, str | None]:
    """Start the server, wait until it is healthy, stop it; (its output, the key it announced)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "conveyor.cli.main", "serve", "--port", str(port)],
                               env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        found = KEY.search(output)
        key = found.group(0) if found else None
        return output, key
    finally:
        if process.poll() is None:
            process.kill()


def test_first_start_prints_one_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first_output, key = serve_once(home)
    assert key is not None, first_output
    assert "shown only this once" in first_output
    assert key.encode() not in b"".join(p.read_bytes() for p in home.rglob("conveyor.db*"))
    second_output, again = serve_once(home)
    assert again is None, f"the key is printed on the first start only:\n{second_output}"
    listed = keys(home, "list")
    assert "initial" in listed and key not in listed


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    home = tmp_path / "home"
    created = keys(home, "create", "--name", "ci-robot")
    key_id, secret = created.split()[:2]
    assert key_id.startswith("key_") and KEY.fullmatch(secret)
    assert "not shown again" in created
    assert "ci-robot" in keys(home, "list")
    assert f"revoked {key_id}" in keys(home, "revoke", key_id)
    listed = [line for line in keys(home, "list").splitlines() if "ci-robot" in line]
    assert len(listed) == 1 and len(re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d", listed[0])) == 2, "created and revoked"
    failed = subprocess.run([sys.executable, "-m", "conveyor.cli.main", "keys", "revoke", "key_missing"],
                            env=cli_env(home), capture_output=True, text=True, timeout=60, cwd=REPO)
    assert failed.returncode == 1 and "not found" in failed.stderr
