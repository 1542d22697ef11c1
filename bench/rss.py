"""Resident memory of a server process and its children, sampled on a thread while a benchmark runs."""

from __future__ import annotations

import threading

import psutil


class RssSampler(threading.Thread):
    """The RSS of a process plus its children, every ``every`` seconds until stopped."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self._process = psutil.Process(pid)
        self._every = every
        self._stop_event = threading.Event()
        self.samples: list[int] = []

    def rss(self) -> int:
        total = int(self._process.memory_info().rss)
        for child in self._process.children(recursive=True):
            try:
                total += int(child.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        return total

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append(self.rss())
            self._stop_event.wait(self._every)

    def stop(self) -> int:
        """Stop sampling; the peak seen."""
        self._stop_event.set()
        self.join()
        return max(self.samples)
