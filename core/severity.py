"""The national four-colour warning scale: red > orange > yellow > blue.

>>> Severity.parse("red") > Severity.ORANGE
True
>>> str(Severity.YELLOW)
'yellow'
"""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    """Ordered so that comparisons read naturally: ``RED`` is the highest."""

    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``'red'`` -> ``Severity.RED``; a clear ``ValueError`` for anything else."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(str(s) for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of {names}") from None
