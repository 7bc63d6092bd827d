"""One exception family, converted to a message and exit code 1 at the CLI edge.

Shortage and infeasibility are data, never exceptions: these are for input that cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One defect found in a file: where it is, what is wrong, and how to fix it."""

    file: str
    message: str
    fix: str = ""
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class FoodchainError(Exception):
    """Base of every error foodchain reports to a person."""


class InputError(FoodchainError):
    """One or more defects in a file or scenario; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid input"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class NotFoundError(FoodchainError):
    """A command named something (farm, canteen, week...) the database does not hold."""


class DatabaseError(FoodchainError):
    """The database cannot be opened or upgraded."""
