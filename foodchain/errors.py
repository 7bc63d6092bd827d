"""One exception family, converted to a message and exit code 1 at the CLI edge.

Shortage and infeasibility are data, never exceptions: these are for input that cannot be used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Problem:
    """One defect found in a file: where it is, what is wrong, and how to fix it."""

    file: str
    message: str
    fix: str = ""
    line: int | None = None
    column: str | None = None
    value: str | None = None
    lines: tuple[int, ...] = ()
    """Every line with this same defect, when ``group_problems`` merged several."""

    def __str__(self) -> str:
        where = self.file
        if len(self.lines) > 1:
            where += f", lines {line_ranges(self.lines)} ({len(self.lines):,} lines)"
        elif self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


def line_ranges(lines: Iterable[int]) -> str:
    """``[2, 3, 4, 7, 9, 10]`` → ``2-4, 7, 9-10``."""
    ranges: list[list[int]] = []
    for line in sorted(set(lines)):
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def group_problems(problems: Sequence[Problem]) -> list[Problem]:
    """Identical defects (same file, column, message, value and fix) as one problem whose
    ``lines`` lists every line it is on, in the order of their first line: a wrong farm id
    copied down 116 lines is one problem "on lines 2-117", not 116."""
    groups: dict[tuple[str, str, str, str | None, str | None], list[Problem]] = {}
    for problem in problems:
        key = (problem.file, problem.message, problem.fix, problem.column, problem.value)
        groups.setdefault(key, []).append(problem)
    merged = []
    for same in groups.values():
        lines = sorted({n for p in same for n in (p.lines or (p.line,)) if n is not None})
        first = same[0]
        merged.append(
            replace(first, line=lines[0], lines=tuple(lines)) if len(lines) > 1 else first
        )
    return merged


class FoodchainError(Exception):
    """Base of every error foodchain reports to a person."""


class InputError(FoodchainError):
    """One or more defects in a file or scenario; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid input"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)

    def grouped(self) -> list[Problem]:
        """The problems with identical defects merged (see ``group_problems``): what to show."""
        return group_problems(self.problems)


class NotFoundError(FoodchainError):
    """A command named something (farm, canteen, week...) the database does not hold."""


class DatabaseError(FoodchainError):
    """The database cannot be opened or upgraded."""


class IncompletePlanError(FoodchainError):
    """A plan with a day whose routing search ended before finding any rounds.

    Not infeasibility (that is data: unserved stops with reasons) but a search cut short; such a
    plan is neither saved nor written out, so nobody mistakes it for a plan."""

    def __init__(self, week: str, days: list[dt.date]) -> None:
        shown = ", ".join(d.strftime("%a %d %b") for d in days)
        super().__init__(
            f"the routing search of {week} found no rounds for {shown} within its time: the "
            "plan is incomplete, so no run was saved and no documents were written. Fix: run "
            "again with a longer --time-limit (seconds for the whole week, e.g. 60), or look at "
            f"the day alone with 'foodchain route --week {week} --day "
            f"{days[0].strftime('%a').lower()}'"
        )
        self.week = week
        self.days = days


class UnservedPlanError(FoodchainError):
    """A plan whose rounds leave mandatory stops out: it does not deliver what it allocated.

    Saving it needs ``allow_unserved`` and publishing it ``force``: a coordinator must decide,
    the plan is not an ordinary draft."""

    def __init__(self, week: str, count: int, examples: list[str], what: str, flag: str) -> None:
        shown = "; ".join(examples[:3]) + (f"; and {count - 3} more" if count > 3 else "")
        super().__init__(
            f"the rounds of {week} leave {count} mandatory stop(s) unserved ({shown}), "
            f"so {what}. Fix: add a vehicle or widen a window and plan again, give the search "
            f"more time (--time-limit), or pass {flag} if the plan should stand as it is"
        )
        self.week = week
        self.count = count
