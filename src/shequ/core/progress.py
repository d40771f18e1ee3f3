"""What long work is doing, on the terminal: the stage, rows done, rate and time left.

A demo load at district scale, an import of a million rows or a key rotation runs for minutes; silence
for that long reads as a hang. `Progress` shows each stage of such work. On a terminal (the stream is a
TTY) it is one line that updates in place (tqdm draws it: width, wide Chinese characters, refresh
throttling, a smoothed rate); anywhere else — a CI log, a file, a pipe — it writes a plain line every
`interval` seconds and one when the stage ends, since carriage returns in a log are noise.

    progress = Progress(sys.stdout)
    with progress.stage("载入案件", total=300_000) as stage:
        for chunk in chunks:
            ...
            stage.update(len(chunk))

Code that reports progress takes a `Progress` (or None: `Progress.silent()` shows nothing), so the same
functions serve commands, jobs and tests."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from tqdm import tqdm

INTERVAL = 5.0  # seconds between plain lines: often enough to see work moving, rare enough for a log


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _clock(seconds: float) -> str:
    return tqdm.format_interval(seconds)


def describe(
    done: int, total: int | None, elapsed: float, rate: float | None, unit: str = "行"
) -> dict[str, str]:
    """The parts of a progress line, in Chinese: rows done (of the total), the rate and the time left.
    `rate` is rows per second (None: the average so far)."""
    if rate is None and elapsed > 0 and done:
        rate = done / elapsed
    parts = {
        "done": f"{_count(done)}/{_count(total)} {unit}" if total else f"{_count(done)} {unit}",
        "share": f"（{min(done / total, 1):.0%}）" if total else "",
        "rate": f"{_count(rate)} {unit}/秒" if rate else f"— {unit}/秒",
        "elapsed": _clock(elapsed),
        "left": "",
    }
    if total and rate and done < total:
        parts["left"] = f"，剩余约 {_clock(math.ceil((total - done) / rate))}"
    return parts


class _Bar(tqdm):
    """tqdm with the Chinese parts of the line as extra format fields, and a clock the tests can set."""

    monitor_interval = 0  # no monitor thread: the bar refreshes when the work reports, which is enough

    def __init__(self, *args, clock: Callable[[], float] = time.time, **kwargs):
        super().__init__(*args, **kwargs)
        # tqdm reads its own clock in __init__; the stage's clock replaces it from the start.
        self._time = clock
        self.start_t = self.last_print_t = clock()

    @property
    def format_dict(self):
        values = super().format_dict
        parts = describe(values["n"], values["total"], values["elapsed"], values["rate"], self.unit)
        values.update({f"{name}_zh": text for name, text in parts.items()})
        return values


TTY_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {done_zh}，{rate_zh}，已用 {elapsed_zh}{left_zh}"
TTY_FORMAT_OPEN = "{desc}：{done_zh}，{rate_zh}，已用 {elapsed_zh}"  # no total: no bar, no time left
LINE_FORMAT = "{desc}：{done_zh}{share_zh}，{rate_zh}，已用 {elapsed_zh}{left_zh}"


class _Discard:
    """Where the line-mode bar 'draws': the lines are written by the stage itself."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class Stage:
    """One stage of the work. `update(n)` adds rows done; `set(done)` gives the count so far (for work
    that reports totals, like the import's batches); `total` may be set once it is known."""

    def __init__(self, progress: Progress, name: str, total: int | None, unit: str):
        self.progress = progress
        self.name = name
        self.unit = unit
        self.enabled = progress.enabled
        self._done = 0
        if not self.enabled:
            return
        self.tty = progress.tty
        self.bar = _Bar(
            total=total,
            desc=name,
            unit=unit,
            file=progress.stream if self.tty else _Discard(),
            bar_format=TTY_FORMAT if total else TTY_FORMAT_OPEN,
            dynamic_ncols=self.tty,
            mininterval=0.5 if self.tty else 0,
            leave=True,
            clock=progress.clock,
        )
        self.last_line = progress.clock()
        if not self.tty:
            self._line(f"{name}：开始" + (f"（共 {_count(total)} {unit}）" if total else ""))

    @property
    def done(self) -> int:
        return self.bar.n if self.enabled else self._done

    @property
    def total(self) -> int | None:
        return self.bar.total if self.enabled else None

    @total.setter
    def total(self, value: int | None) -> None:
        if self.enabled:
            self.bar.total = value
            self.bar.bar_format = TTY_FORMAT if value else TTY_FORMAT_OPEN

    def update(self, rows: int = 1) -> None:
        if not self.enabled:
            self._done += rows
            return
        self.bar.update(rows)
        finished = self.bar.total is not None and self.bar.n >= self.bar.total  # close() says it
        if not self.tty and not finished and self.progress.clock() - self.last_line >= self.progress.interval:
            self._line(self._text())

    def set(self, done: int) -> None:
        if done != self.done:
            self.update(done - self.done)

    def _text(self) -> str:
        values = self.bar.format_dict
        return LINE_FORMAT.format(desc=self.name, **{k: v for k, v in values.items() if k.endswith("_zh")})

    def _line(self, text: str) -> None:
        self.progress.write_line(text)
        self.last_line = self.progress.clock()

    def close(self) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.bar.close()  # leaves the final state (with the average rate) on its line
            return
        elapsed = self.progress.clock() - self.bar.start_t
        parts = describe(self.bar.n, None, elapsed, None, self.unit)
        self.bar.close()
        self._line(f"{self.name}：完成 {parts['done']}，用时 {parts['elapsed']}，平均 {parts['rate']}")


class Progress:
    """Progress of one command or job on a stream (stdout by default). `tty` defaults to whether the
    stream is a terminal; `interval` is the seconds between plain lines when it is not."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        tty: bool | None = None,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.time,
        enabled: bool = True,
    ):
        stream = stream if stream is not None else sys.stdout
        # A management command's self.stdout wraps the real stream and adds line endings of its own.
        self.stream = getattr(stream, "_out", stream)
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty()) if tty is None else tty
        self.interval = interval
        self.clock = clock
        self.enabled = enabled

    @classmethod
    def silent(cls) -> Progress:
        return cls(enabled=False)

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "行") -> Iterator[Stage]:
        stage = Stage(self, name, total, unit)
        try:
            yield stage
        finally:
            stage.close()

    def note(self, text: str) -> None:
        """A line of its own (a step too short for a bar, a summary)."""
        if self.enabled:
            self.write_line(text)

    def write_line(self, text: str) -> None:
        if self.tty:
            tqdm.write(text, file=self.stream)  # above any bar being drawn
        else:
            self.stream.write(text + "\n")
            self.stream.flush()
