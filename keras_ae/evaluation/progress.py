"""A progress bar on stderr for long measurements (IWAE with k = 1000, FID features of thousands of images)."""

__all__ = ["Progress"]

import sys
import time


class Progress:
    """``Progress(total, label, enabled)``; ``update(n)`` adds ``n`` done, ``close()`` ends the line.

    On a terminal the bar redraws in place at most every 0.2 s; otherwise (a log file) a line is written at every
    tenth of the work. Disabled, it does nothing. Usable as a context manager.
    """

    def __init__(self, total, label, enabled=True, stream=None, width=30):
        self.total, self.label, self.enabled = max(int(total), 1), str(label), bool(enabled)
        self.stream = stream or sys.stderr
        self.width, self.done = width, 0
        self.start = self.last = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._decile = -1

    def update(self, n=1):
        if not self.enabled:
            return
        self.done = min(self.total, self.done + int(n))
        now = time.monotonic()
        if self.tty:
            if now - self.last >= 0.2 or self.done == self.total:
                self.last = now
                self.stream.write("\r" + self._line(now))
                self.stream.flush()
        else:
            decile = int(10 * self.done / self.total)
            if decile > self._decile:
                self._decile = decile
                self.stream.write(self._line(now) + "\n")
                self.stream.flush()

    def _line(self, now):
        frac = self.done / self.total
        filled = int(self.width * frac)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * max(self.width - filled - 1, 0)
        return f"{self.label}: {self.done}/{self.total} [{bar}] {100 * frac:3.0f}% {now - self.start:.0f} s"

    def close(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
