"""Randomness a test can predict: jitter at one end of its range."""

from __future__ import annotations

import random


class EdgeRandom(random.Random):
    """``uniform(a, b)`` and ``random()`` always give the same end of the range (``at``: 0 or 1).

    Code under test takes a ``random.Random``; with this one a jittered time is an exact
    number, so a test can compare it with ``==``.
    """

    def __init__(self, at: float = 1.0) -> None:
        super().__init__(0)
        self.at = at

    def random(self) -> float:
        """``at`` itself (0 or 1; 1 is outside ``random()``'s range but keeps sums exact)."""
        return self.at

    def uniform(self, a: float, b: float) -> float:
        """``a`` when ``at`` is 0, ``b`` when it is 1."""
        return a + (b - a) * self.at
