"""Stored plans (runs) and the KPIs over weeks: tables that fit a terminal, or every value
as CSV or JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from foodchain.cli.app import (
    EXAMPLES,
    FORMAT_HELP,
    Format,
    Lang,
    app,
    console,
    database,
    emit_data,
    escape,
    flag,
    group,
    language_option,
    out_option,
    output_folder,
    reported,
    week_option,
    weeks_option,
)
from foodchain.cli.planning import plan_summary
from foodchain.errors import FoodchainError
from foodchain.weeks import WEEKDAYS

runs_app = group("runs", "Stored weekly plans.")


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def _kpi_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return escape(str(value))


def _share(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "-"


def _amount(value: Any, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}" if isinstance(value, int | float) else "-"


def compact_table(title: str, columns: list[tuple[str, bool]]) -> Table:
    """A table for an 80-column terminal: no outer frame, one space between columns, and
    headers that wrap rather than values cut short. ``columns``: (header, right-aligned)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), pad_edge=False)
    for header, right in columns:
        table.add_column(header, justify="right" if right else "left", no_wrap=True)
    return table


RunId = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="Run id (see 'foodchain runs list').")
]

RUN_COLUMNS = [
    ("run", True),
    ("week", False),
    ("status", False),
    ("created", False),
    ("left\nout", True),
    ("canteens", True),
    ("baskets", True),
    ("unsold\nkg", True),
    ("cost\n€", True),
]


@runs_app.command(
    "list",
    help="Stored plans, newest first." + EXAMPLES + "foodchain runs list --week 2026-W49",
)
def runs_list(
    week: Annotated[str | None, typer.Option(help="Only this ISO week.", metavar="WEEK")] = None,
    format: Annotated[Format, typer.Option(help=FORMAT_HELP)] = Format.table,
) -> None:
    from foodchain.runs import DISPLAY_KPIS, list_runs

    with reported():
        runs = list_runs(database(), str(week_option(week)) if week else None)
        header = ["run", "week", "status", "created", "seed", *DISPLAY_KPIS]
        data = [
            [r.id, r.week, str(r.status), r.created_at.isoformat(), r.seed]
            + [r.kpis.get(name) for name in DISPLAY_KPIS]
            for r in runs
        ]
        if emit_data(format, header, data):
            return
        if not runs:
            console.print("No runs yet: make one with 'foodchain plan --week WEEK'.")
            return
        table = compact_table("Runs", RUN_COLUMNS)
        for run in runs:
            k = run.kpis
            table.add_row(
                str(run.id),
                run.week,
                str(run.status),
                run.created_at.astimezone().strftime("%d/%m %H:%M"),
                _amount(k.get("unserved_stops")),
                _share(k.get("canteens_share")),
                _share(k.get("baskets_share")),
                _amount(k.get("unsold_kg")),
                _amount(k.get("cost_eur")),
            )
        console.print(table)
        console.print(
            "[dim]left out: mandatory stops the rounds leave out; canteens, baskets: share "
            "delivered. Every value: --format csv or json.[/dim]"
        )


@runs_app.command(
    "show",
    help="A stored plan's summary, parameters and solver statistics."
    + EXAMPLES
    + "foodchain runs show 3",
)
def runs_show(
    run: RunId,
    format: Annotated[
        Format, typer.Option(help="table, or json: the run's parameters, statistics and KPIs.")
    ] = Format.table,
) -> None:
    from foodchain.runs import load_run

    with reported():
        stored = load_run(database(), run)
        summary = stored.summary
        if format is not Format.table:
            typer.echo(
                json.dumps(
                    {
                        "run": summary.id,
                        "week": summary.week,
                        "status": str(summary.status),
                        "created_at": summary.created_at.isoformat(),
                        "published_at": summary.published_at.isoformat()
                        if summary.published_at
                        else None,
                        "fingerprint": summary.fingerprint,
                        "seed": summary.seed,
                        "parameters": stored.parameters,
                        "statistics": stored.statistics,
                        "kpis": stored.kpis,
                    },
                    indent=2,
                    ensure_ascii=False,
                    default=str,
                )
            )
            return
        console.print(
            f"Run [bold]{summary.id}[/bold], {summary.week}, {summary.status}, created "
            f"{_when(summary.created_at)}"
            + (f", published {_when(summary.published_at)}" if summary.published_at else "")
            + f"; inputs {summary.fingerprint[:12]}, seed {summary.seed}."
        )
        parameters = stored.parameters
        console.print(
            "Parameters: "
            + escape(
                ", ".join(
                    f"{key} {value}"
                    for key, value in sorted(parameters.items())
                    if key != "allocation" and value is not None
                )
            )
        )
        seconds = stored.statistics.get("seconds")
        if isinstance(seconds, int | float):
            console.print(f"Planned in {seconds:.1f} s.")
        hub = stored.record.hub_id
        engines = [
            f"{WEEKDAYS[d.day.weekday()]}"
            + (f" ({d.depot_id}'s own)" if d.depot_id not in ("", hub) else "")
            + f" {d.engine}"
            for d in stored.record.days
            if d.engine
        ]
        if engines:
            console.print("Rounds kept from: " + escape(", ".join(engines)) + ".")
        for d in stored.record.days:
            if d.crashes:
                console.print(
                    f"[red]A search failed on {WEEKDAYS[d.day.weekday()]}[/red] (the day kept "
                    "the others' rounds): " + escape(d.crashes.splitlines()[-1])
                )
        plan_summary(stored.record, summary.id, None)


@runs_app.command(
    "diff",
    help="What changed between two plans: inputs, KPIs, deliveries, baskets, rounds."
    + EXAMPLES
    + "foodchain runs diff 2 3",
)
def runs_diff(
    run_a: Annotated[int, typer.Argument(help="The earlier run.")],
    run_b: Annotated[int, typer.Argument(help="The later run.")],
) -> None:
    from foodchain.runs import diff_runs

    with reported():
        diff = diff_runs(database(), run_a, run_b)
        console.print(
            f"Run {diff.a.id} ({diff.a.week}) -> run {diff.b.id} ({diff.b.week}): inputs "
            + ("identical" if diff.same_fingerprint else "[yellow]changed[/yellow]")
            + ", parameters "
            + ("identical" if diff.same_parameters else "[yellow]changed[/yellow]")
            + "."
        )
        if diff.is_empty:
            console.print("The two plans are the same.")
            return
        if diff.parameter_changes or diff.kpi_changes:
            table = Table(title="Parameters and KPIs")
            for column in ("key", "before", "after", "change"):
                table.add_column(column, justify="left" if column == "key" else "right")
            for change in [*diff.parameter_changes, *diff.kpi_changes]:
                delta = change.delta
                table.add_row(
                    escape(change.key),
                    _kpi_cell(change.old),
                    _kpi_cell(change.new),
                    f"{delta:+,.3f}" if delta is not None else "",
                )
            console.print(table)
        if diff.flow_changes:
            table = Table(title="Deliveries (kg)")
            for column in ("farm", "product", "to", "day", "before", "after"):
                table.add_column(
                    column, justify="right" if column in ("before", "after") else "left"
                )
            for flow in diff.flow_changes:
                table.add_row(
                    flow.farm_id,
                    flow.product_id,
                    flow.destination_id,
                    flow.delivery_day.isoformat(),
                    f"{flow.old_kg:.1f}",
                    f"{flow.new_kg:.1f}",
                )
            console.print(table)
        for basket in diff.basket_changes:
            console.print(
                f"basket {basket.basket_type}, {basket.product_id}: "
                f"{_kpi_cell(basket.old_kg)} -> {_kpi_cell(basket.new_kg)} kg per basket"
            )
        for route in diff.route_changes:
            console.print(
                f"{route.day} {route.vehicle_id}: {route.old_km:.1f} -> {route.new_km:.1f} km"
                + (
                    ""
                    if route.same_stops
                    else ", stops changed: "
                    + escape(" | ".join(" ".join(t) for t in route.new_trips) or "not used")
                )
            )


@runs_app.command(
    "publish",
    help="Publish a draft: it becomes the week's plan and is never changed again."
    + EXAMPLES
    + "foodchain runs publish 3",
)
def runs_publish(
    run: RunId,
    replace: Annotated[
        bool, flag("--replace", "Supersede the week's published run with this one.")
    ] = False,
    force: Annotated[
        bool, flag("--force", "Publish even if the run's rounds leave mandatory stops out.")
    ] = False,
) -> None:
    from foodchain.plan.saving import publish_plan

    with reported():
        published = publish_plan(database(announce=True), run, replace=replace, force=force)
        summary = published.summary
        console.print(
            f"Run {summary.id} is the published plan of {summary.week}: its documents, "
            f"stamped published, are in {escape(str(published.folder))} (the week's copy) and "
            f"{escape(str(published.run_folder))}."
        )


@runs_app.command(
    "export",
    help="Write the documents of a stored run again, exactly as planned."
    + EXAMPLES
    + "foodchain runs export 3 --out plans/2026-W49-final",
)
def runs_export(
    run: RunId,
    out: Annotated[
        Path | None,
        out_option("Folder for the documents (default plans/WEEK/run-N, the run's own)."),
    ] = None,
    language: Annotated[
        Lang | None, language_option("Language of the documents (default: the run's).")
    ] = None,
) -> None:
    from foodchain.plan.saving import export_run

    with reported():
        output_folder(out)
        saved = export_run(database(), run, out, language.value if language else None)
        console.print(
            f"Wrote {len(saved.documents)} documents of run {run} to {escape(str(saved.folder))}."
        )


SEND_GROUPS = ("farmers", "canteens", "relays", "drivers")
"""``--to`` groups (``foodchain.sending.GROUPS``, not imported: it loads the database)."""

SEND_COLUMNS = [
    ("to", False),
    ("address", False),
    ("attachments", False),
    ("status", False),
]


@runs_app.command(
    "send",
    help="E-mail each person their documents of a run: farmers their pick list, canteens "
    "their delivery note, relay points and shops their packing list, drivers the route "
    "sheets. Only what changed since the week's last send goes again. SMTP server: "
    "FOODCHAIN_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _STARTTLS, or "
    "~/.config/foodchain/smtp.toml (FOODCHAIN_SMTP_CONFIG)."
    + EXAMPLES
    + "foodchain runs send 3 --to farmers,canteens --dry-run",
)
def runs_send(
    run: RunId,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Who, comma-separated: farmers, canteens, relays (relay points and shops), "
            "drivers.",
            metavar="GROUPS",
        ),
    ] = ",".join(SEND_GROUPS),
    dry_run: Annotated[
        bool,
        flag("--dry-run", "List recipients, addresses and attachments; send and write nothing."),
    ] = False,
    draft: Annotated[
        bool, flag("--draft", "Send a draft run (stamped BROUILLON), not only a published one.")
    ] = False,
    drivers_to: Annotated[
        str | None,
        typer.Option(
            "--drivers-to",
            help="Send every route sheet to this address (default: the scenario's "
            "settings.sending.drivers).",
            metavar="ADDRESS",
        ),
    ] = None,
) -> None:
    from foodchain.sending import Status, send_run
    from foodchain.smtp import smtp_settings

    with reported():
        groups = [g.strip() for g in to.split(",") if g.strip()]
        report = send_run(
            database(announce=not dry_run),
            run,
            groups,
            draft=draft,
            dry_run=dry_run,
            drivers_to=drivers_to,
            smtp=smtp_settings,
        )
        summary = report.run
        console.print(
            f"Run {summary.id} ({summary.week}, {summary.status}): documents from "
            f"{escape(str(report.folder))}"
            + (" [yellow](dry run: nothing sent)[/yellow]" if report.dry_run else "")
        )
        if not report.outcomes:
            console.print("Nobody to send to: the run has no documents for " + escape(to) + ".")
            return
        table = compact_table("Sending", SEND_COLUMNS)
        colours = {Status.SENT: "green", Status.FAILED: "red", Status.NO_ADDRESS: "yellow"}
        for outcome in report.outcomes:
            status = outcome.status
            if outcome.unchanged and outcome.documents:
                status += f", {len(outcome.unchanged)} unchanged"
            colour = colours.get(outcome.status)
            attached = outcome.attachments or [
                p.name for d, _ in outcome.unchanged for p in d.attachments
            ]
            table.add_row(
                escape(outcome.name),
                escape(outcome.address or "-"),
                escape("\n".join(attached)),
                f"[{colour}]{status}[/{colour}]" if colour else status,
            )
        console.print(table)
        for outcome in report.outcomes:
            if outcome.note:
                console.print(f"  {escape(outcome.name)}: {escape(outcome.note)}")
            elif outcome.status == Status.UNCHANGED:
                last = max((s for _d, s in outcome.unchanged), key=lambda s: s.sent_at)
                console.print(
                    f"  {escape(outcome.name)}: unchanged since sent {_when(last.sent_at)} "
                    f"(run {last.run_id}): skipped"
                )
        counts = {
            s: report.count(s)
            for s in (
                Status.SENT,
                Status.UNCHANGED,
                Status.NO_ADDRESS,
                Status.FAILED,
                Status.WOULD_SEND,
            )
        }
        console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".")
        if counts[Status.FAILED]:
            console.print(
                f"Run 'foodchain runs send {summary.id}' again once fixed: what went is not "
                "sent twice."
            )
            raise typer.Exit(1)


REPORT_COLUMNS = [
    ("week", False),
    ("run", True),
    ("canteens", True),
    ("baskets", True),
    ("shops\nkg", True),
    ("unsold\nkg", True),
    ("km", True),
    ("CO2\nkg", True),
    ("cost\n€", True),
    ("fair-\nness", True),
]


@app.command(
    help="KPIs over weeks (published runs, else the newest draft): a table, a CSV and a chart."
    + EXAMPLES
    + "foodchain report --weeks 2026-W45..2026-W52 --out reports",
)
def report(
    weeks: Annotated[str, typer.Option(help="Weeks, e.g. 2026-W45..2026-W52.")],
    out: Annotated[Path, out_option("Folder for the CSV table and PNG chart.")] = Path("reports"),
    format: Annotated[
        Format, typer.Option(help=FORMAT_HELP + " The files are written either way.")
    ] = Format.table,
) -> None:
    from foodchain.report import COLUMNS, weekly_kpis, write_report

    with reported():
        chosen = weeks_option(weeks)
        output_folder(out)
        rows = weekly_kpis(database(), chosen)
        if not rows:
            raise FoodchainError(
                f"no run in {weeks}: plan the weeks first with 'foodchain plan --week WEEK'"
            )
        header = ["week", "run_id", "status", *(name for name, _ in COLUMNS)]
        data = [[r.week, r.run_id, r.status, *(r.values[n] for n, _ in COLUMNS)] for r in rows]
        written = write_report(rows, out, f"kpis_{chosen[0]}_{chosen[-1]}")
        if emit_data(format, header, data):
            return
        table = compact_table(f"KPIs {chosen[0]}..{chosen[-1]}", REPORT_COLUMNS)
        for row in rows:
            v = row.values
            due, filled = v["baskets_due"], v["baskets_filled"]
            table.add_row(
                row.week,
                f"{row.run_id}{'' if row.status == 'published' else '*'}",
                _share(v["canteen_share"]),
                _share(filled / due) if due and filled is not None else "-",
                _amount(v["shops_kg"]),
                _amount(v["unsold_kg"]),
                _amount(v["km"]),
                _amount(v["co2_kg"], 1),
                _amount(v["cost_eur"]),
                _amount(v["fairness"], 2),
            )
        console.print(table)
        if any(r.status != "published" for r in rows):
            console.print("* not published: the newest draft of the week.")
        missing = len(chosen) - len(rows)
        if missing:
            console.print(f"{missing} week(s) without any run left out.")
        console.print(f"Wrote {', '.join(escape(str(p)) for p in written)} (every column).")
