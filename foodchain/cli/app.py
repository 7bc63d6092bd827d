"""The application object, its global options and how errors reach people.

Start-up stays light: this package imports typer and rich only; OR-Tools, PyVRP, pandas,
SQLAlchemy and the solvers are imported inside the commands that use them, so
``foodchain --help`` and ``foodchain --version`` answer at once (``benchmarks/startup.py``).
"""

from __future__ import annotations

import json
import logging
import math
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as escape_markup
from typer.core import TyperGroup

from foodchain.errors import FoodchainError, InputError
from foodchain.weeks import Week, week_range

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from typer import _click as click

RENAMED_OPTIONS = {"--output": "--out", "--lang": "--language"}
"""Old option names, still accepted (and not shown in the help)."""


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """``ARGS`` with ``--db URL``, ``--db=URL``, ``--debug`` and ``--version`` moved to the
    front, where the program reads them (people type them after the subcommand too), and
    ``RENAMED_OPTIONS`` given their current names."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg == "--db" and index + 1 < len(args):
            front += [arg, args[index + 1]]
            index += 2
            continue
        name, equals, value = arg.partition("=")
        if name in RENAMED_OPTIONS:
            arg = RENAMED_OPTIONS[name] + equals + value
        if arg.startswith("--db=") or arg in ("--debug", "--version"):
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


class _Program(TyperGroup):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))


EXAMPLES = "\n\n[dim]Example:[/dim] "

app = typer.Typer(
    cls=_Program,
    help="Plan the week of a short food supply chain (Loos-en-Gohelle and the Lensois)."
    + EXAMPLES
    + "foodchain plan --week 2026-W49 --scenario lensois",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)


def group(name: str, help: str) -> typer.Typer:
    """A command group of the program (``foodchain NAME ...``)."""
    sub = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode="rich")
    app.add_typer(sub, name=name)
    return sub


console = Console(highlight=False)
notices = Console(highlight=False, stderr=True)
"""Side remarks (which database, the time a flag costs) that must not mix with CSV or JSON
printed on standard output."""


class Options:
    db: str | None = None
    debug: bool = False


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"foodchain {version('foodchain')}")
        raise typer.Exit()


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            metavar="DB",
            help="Database: a file path, sqlite:///FILE or postgresql://USER@HOST/DB "
            "(default: the FOODCHAIN_DB environment variable, else foodchain.db here).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, flag("--debug", "Show the Python traceback on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_version,
            is_eager=True,
            metavar="",
        ),
    ] = False,
) -> None:
    Options.db = db
    Options.debug = debug
    library = logging.getLogger("foodchain")
    if not any(isinstance(h, _ConsoleWarnings) for h in library.handlers):
        library.addHandler(_ConsoleWarnings(logging.WARNING))


class _ConsoleWarnings(logging.Handler):
    """The library's warnings (a writer waiting for the database) shown as the CLI's own."""

    def emit(self, record: logging.LogRecord) -> None:
        notices.print(f"[yellow]{escape(record.getMessage())}[/yellow]")


def escape(text: str) -> str:
    """Text from people's files made safe to print: rich markup escaped, and control
    characters (a terminal escape sequence in a dish name) shown as ``\\x1b``."""
    shown = "".join(
        c.encode("unicode_escape").decode() if c != "\n" and unicodedata.category(c) == "Cc" else c
        for c in text
    )
    return escape_markup(shown)


PROBLEMS_SHOWN = 100
"""Problems of a refused file printed at most (an 8 MB file could have a million)."""


@contextmanager
def reported() -> Iterator[None]:
    """Turn foodchain errors into a red message and exit code 1 (traceback only with --debug)."""
    try:
        yield
    except FoodchainError as exc:
        if Options.debug:
            raise
        if isinstance(exc, InputError):
            shown = exc.grouped()  # the same mistake on many lines: once, with its lines
            console.print(f"[red]{len(exc.problems)} problem(s); nothing was written:[/red]")
            for problem in shown[:PROBLEMS_SHOWN]:
                console.print(f"  [red]✗[/red] {escape(str(problem))}")
            if len(shown) > PROBLEMS_SHOWN:
                console.print(
                    f"  … and {len(shown) - PROBLEMS_SHOWN:,} more: fix these first, then run again"
                )
        else:
            console.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except OSError as exc:
        if Options.debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        console.print(
            f"[red]Error:[/red] cannot use{escape(where)}: {escape(exc.strerror or str(exc))}. "
            "Fix: check that the folder exists, is writable and has free space, or choose "
            "another path"
        )
        raise typer.Exit(1) from None
    except MemoryError:
        if Options.debug:
            raise
        console.print(
            "[red]Error:[/red] not enough memory for this command; nothing was written. Fix: "
            "close other programs, or split the file and import each part"
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        if Options.debug:
            raise
        console.print(
            "[yellow]Interrupted.[/yellow] Nothing is half-written: each import, scenario load "
            "and plan run is saved in one transaction, so what was not finished was not saved, "
            "and documents are put in place whole. A run saved without its documents gets them "
            "with 'foodchain runs export RUN'. Run the command again."
        )
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if Options.debug:
            raise
        if type(exc).__module__.startswith("sqlalchemy"):
            from foodchain.db import describe_fault

            console.print(f"[red]Error:[/red] {escape(describe_fault(exc))}")
        else:
            console.print(
                f"[red]Internal error ({type(exc).__name__}):[/red] {escape(str(exc))}\n"
                "Nothing was written. Run again with --debug and report the traceback."
            )
        raise typer.Exit(1) from None


def database(create: bool = False, announce: bool = False) -> Engine:
    """The database of this command. Only commands that load a scenario ``create`` one;
    the others refuse a missing or empty database instead of working on a new empty file.
    ``announce`` says which database is used (on standard error), for commands that write."""
    from foodchain.db import describe_database, open_database

    engine = open_database(Options.db, create=create)
    if announce:
        notices.print(f"[dim]Database: {escape(describe_database(Options.db))}[/dim]")
    return engine


def weeks_option(text: str) -> list[Week]:
    try:
        return week_range(text)
    except ValueError as exc:
        raise FoodchainError(f"--weeks: {exc}") from None


def week_option(text: str) -> Week:
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise FoodchainError(f"--week: {exc}") from None


def time_limit_option(seconds: float) -> float:
    if not (math.isfinite(seconds) and 0 < seconds <= 86_400):
        raise FoodchainError(
            f"--time-limit {seconds}: give a number of seconds above 0 and at most 86400"
        )
    return seconds


def output_folder(path: Path | None, option: str = "--out") -> Path | None:
    """``path`` if its parent folder exists; a clear error (not a FileNotFoundError) if not."""
    if path is not None and not path.parent.exists():
        raise FoodchainError(
            f"{option} {path}: the folder {path.parent} does not exist. Fix: create it "
            "first, or give a path inside an existing folder"
        )
    return path


class Lang(StrEnum):
    fr = "fr"
    en = "en"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FORMAT_HELP = "table (for people), csv (for scripts: ',' separator, '.' decimals, UTF-8) or json."

DRY_RUN_HELP = "Show what would change, write nothing."


def language_option(help: str) -> Any:
    """``--language fr|en``."""
    return typer.Option("--language", help=help)


def out_option(help: str) -> Any:
    """``--out PATH`` (or ``-o``)."""
    return typer.Option("--out", "-o", help=help, metavar="PATH")


def flag(name: str, help: str) -> Any:
    """A boolean option given or not (no ``--no-`` twin, no value)."""
    return typer.Option(name, help=help, metavar="")


def script_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV for scripts: ``,`` separated, ``.`` decimals, no BOM (documents for Excel keep
    ``;``, decimal commas and a BOM)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def emit_data(format: Format, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bool:
    """Print ``rows`` as CSV or JSON for ``--format csv|json``; False for a table (the
    caller draws it)."""
    if format is Format.csv:
        sys.stdout.write(script_csv(header, rows))
        return True
    if format is Format.json:
        records = [dict(zip(header, row, strict=True)) for row in rows]
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False, default=str))
        return True
    return False
