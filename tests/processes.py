"""Real ``newsrelay run`` processes for the multi-process tests: spawn, read stderr, kill.

These run on the system clock (a subprocess cannot share the test's virtual clock): tests
that use them wait on outcomes with ``tests.virtual_time.eventually`` and a real-time
bound, never with sleeps.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.corpus import REPO_ROOT
from tests.virtual_time import eventually


def write_config(folder: Path, name: str, data: dict[str, Any]) -> Path:
    """A YAML configuration file ``name`` in ``folder`` holding ``data``."""
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


def clean_environ(**extra: str) -> dict[str, str]:
    """The test's environment for a ``python -m bot`` subprocess: without NEWSRELAY_* or
    BOT_TOKEN, this checkout first on PYTHONPATH, bytecode written, plus ``extra``.

    The subprocess runs in a temporary folder, where ``bot`` would otherwise be whatever the
    interpreter has installed: an editable install of another checkout (a second git
    worktree) would be tested instead of this one.

    Bytecode: the suite starts about a hundred of these processes. Where
    ``PYTHONDONTWRITEBYTECODE`` is set (many containers set it) each would compile the whole
    ``bot`` package again (~0.1 s of CPU each), so it is dropped here: they write
    ``bot/__pycache__`` (ignored by git) as Python does by default, the first one only.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSRELAY_", "BOT_TOKEN"))}
    environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), environ.get("PYTHONPATH")])
    )
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    environ.update(extra)
    return environ


class BotProcess:
    """One ``python -m bot <args>`` subprocess whose stderr lines are collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, cwd: Path, *args: str, **env: str) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args,
            cwd=cwd, env=clean_environ(**env),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    def count(self, text: str) -> int:
        """How many stderr lines so far hold ``text``."""
        return sum(text in line for line in self.lines)

    async def until(self, text: str, times: int = 1, real_seconds: float = 30) -> None:
        """Wait (real time) until ``times`` stderr lines hold ``text``, or fail."""
        await eventually(
            lambda: self.count(text) >= times,
            what=f"{times} stderr lines with {text!r}: {self.lines}",
            real_seconds=real_seconds,
        )

    async def stop(self, signum: int = signal.SIGTERM, *, real_seconds: float = 20) -> int:
        """Signal the process (if still running) and return its exit code; killed if it
        does not end within ``real_seconds``."""
        if self.process.returncode is None:
            self.process.send_signal(signum)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=real_seconds)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        await self._reader
        return code


async def run_cli(
    cwd: Path, *args: str, real_seconds: float = 60, **env: str
) -> tuple[int, str, str]:
    """Run ``python -m bot <args>`` until it exits by itself (killed after ``real_seconds``);
    its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=cwd, env=clean_environ(**env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=real_seconds)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
