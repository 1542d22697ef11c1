"""What an item spent on outside services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Usage:
    """What an item's attempt spent on outside services (LLM calls); recorded on the item."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, *, requests: int = 1, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        self.requests += requests
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    @property
    def empty(self) -> bool:
        return not (self.requests or self.prompt_tokens or self.completion_tokens)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}
