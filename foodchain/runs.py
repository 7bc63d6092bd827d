"""Stored plan runs: every weekly plan is saved as a draft, one run per week is published.

A run's record and KPIs are written once, when it is saved, and never changed: people were
sent the documents of a published run, so a new plan becomes a new run, and publishing it
marks the previous one superseded. There is deliberately no function that updates a run.

The database guarantees "at most one published run per week" (a partial unique index on
``plan_run``); publishing also takes the writers' turn (``foodchain.db.write_transaction``) and
locks the week's rows, so that a concurrent publisher gets a clear answer rather than a
constraint violation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from foodchain.db import transaction, write_transaction
from foodchain.errors import (
    DatabaseError,
    FoodchainError,
    IncompletePlanError,
    UnservedPlanError,
)
from foodchain.models import Run, RunStatus
from foodchain.plan.record import RECORD_FORMAT, PlanRecord
from foodchain.weeks import Week

KG_TOLERANCE = 1e-3
"""Flow and basket kg closer than this are the same (the solver's rounding is far below)."""
KM_TOLERANCE = 1e-3

DISPLAY_KPIS: dict[str, str] = {
    "unserved_stops": "transport.unserved_mandatory_stops",
    "canteens_share": "fulfilment.canteens.share",
    "canteens_short_kg": "fulfilment.canteens.short_kg",
    "baskets_share": "fulfilment.baskets.share",
    "unsold_kg": "unsold_kg",
    "km": "transport.km",
    "co2_kg": "transport.co2_kg",
    "cost_eur": "transport.cost_eur",
}
"""The few KPIs a run list shows, by display name -> dotted key in kpis.json; mandatory stops
the rounds leave out come first (shares are of what is delivered, not allocated)."""


class PlanLike(Protocol):
    """What ``save_run`` needs of a plan (``foodchain.plan.Plan`` has it)."""

    @property
    def record(self) -> PlanRecord: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, Any]: ...

    @property
    def seconds(self) -> float: ...


@dataclass(frozen=True)
class RunSummary:
    """A run as listed: no record, so listing many runs stays cheap."""

    id: int
    week: str
    status: RunStatus
    created_at: dt.datetime
    published_at: dt.datetime | None
    fingerprint: str
    seed: int
    scenario: str
    kpis: dict[str, Any]
    """The ``DISPLAY_KPIS`` (None when the run's kpis lack one)."""


@dataclass(frozen=True)
class StoredRun:
    """A run as stored, with its record read back into a ``PlanRecord``."""

    summary: RunSummary
    parameters: dict[str, Any]
    statistics: dict[str, Any]
    kpis: dict[str, Any]
    record: PlanRecord

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def week(self) -> str:
        return self.summary.week

    @property
    def status(self) -> RunStatus:
        return self.summary.status


# --------------------------------------------------------------------------- helpers


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def kpi_at(tree: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key of a KPI tree (None if missing)."""
    value: Any = tree
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _summary(run: Run) -> RunSummary:
    assert run.id is not None
    return RunSummary(
        id=run.id,
        week=run.week,
        status=RunStatus(run.status),
        created_at=_utc(run.created_at),
        published_at=_utc(run.published_at) if run.published_at else None,
        fingerprint=run.fingerprint,
        seed=run.seed,
        scenario=run.scenario,
        kpis={name: kpi_at(run.kpis, key) for name, key in DISPLAY_KPIS.items()},
    )


def _week(text: str) -> str:
    try:
        return str(Week.parse(text))
    except ValueError as exc:
        raise FoodchainError(str(exc)) from exc


def _missing(run_id: int) -> FoodchainError:
    return FoodchainError(f"no run {run_id}: see 'foodchain runs list'")


def _week_runs(session: Session, week: str) -> list[Run]:
    """The week's runs, locked until commit on PostgreSQL (in id order: no deadlock)."""
    statement = select(Run).where(Run.week == week).order_by(col(Run.id)).with_for_update()
    return list(session.exec(statement).all())


# --------------------------------------------------------------------------- API


def ensure_savable(record: PlanRecord, allow_unserved: bool = False) -> None:
    """Refuse a plan that is not an ordinary draft: a day without rounds (always), or
    mandatory stops left unserved (unless ``allow_unserved``: the coordinator decided)."""
    if record.unrouted_days():
        raise IncompletePlanError(record.week, record.unrouted_days())
    unserved = record.unserved_mandatory()
    if unserved and not allow_unserved:
        raise UnservedPlanError(
            record.week,
            len(unserved),
            [f"{u.day:%a %d %b}, {u.explanation}" for u in unserved],
            "no run was saved and no documents were written",
            "--allow-unserved",
        )


def save_run(engine: Engine, plan: PlanLike, allow_unserved: bool = False) -> int:
    """Store ``plan`` as a new draft run of its week; returns the run's id.

    A plan with a day whose routing search found no rounds is refused: stored, it would look
    like a plan whose stops were merely not served; so is one leaving mandatory stops out,
    unless ``allow_unserved`` (``ensure_savable``)."""
    record = plan.record
    ensure_savable(record, allow_unserved)
    stored = record.model_dump(mode="json", include={"statistics", "kpis"})
    run = Run(
        week=_week(record.week),
        status=RunStatus.DRAFT,
        created_at=dt.datetime.now(dt.UTC),
        fingerprint=plan.fingerprint,
        parameters=to_jsonable_python(dict(plan.parameters)),
        seed=int(plan.parameters.get("seed", 0) or 0),
        statistics={**stored["statistics"], "seconds": plan.seconds},
        kpis=stored["kpis"],
        record=record.model_dump_json(),
        scenario=record.scenario,
    )
    with write_transaction(engine) as session:  # writers take turns, and say when they wait
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def list_runs(engine: Engine, week: str | None = None) -> list[RunSummary]:
    """Runs, newest first (of one week when given), without their records."""
    statement = (
        select(Run)
        .options(defer(cast(QueryableAttribute[str], Run.record)))
        .order_by(col(Run.created_at).desc(), col(Run.id).desc())
    )
    if week is not None:
        statement = statement.where(Run.week == _week(week))
    with transaction(engine) as session:
        return [_summary(run) for run in session.exec(statement).all()]


def run_summary(engine: Engine, run_id: int) -> RunSummary:
    """One run as listed (status, dates), without its record."""
    statement = (
        select(Run)
        .options(defer(cast(QueryableAttribute[str], Run.record)))
        .where(Run.id == run_id)
    )
    with transaction(engine) as session:
        run = session.exec(statement).first()
        if run is None:
            raise _missing(run_id)
        return _summary(run)


def latest_run(engine: Engine, week: str) -> StoredRun | None:
    """The week's newest run, whatever its status (what a re-plan starts from)."""
    runs = list_runs(engine, week)
    return load_run(engine, runs[0].id) if runs else None


def load_run(engine: Engine, run_id: int) -> StoredRun:
    """The whole run, its record validated back into a ``PlanRecord``."""
    with transaction(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise _missing(run_id)
    try:
        record = PlanRecord.model_validate_json(run.record)
        if record.format > RECORD_FORMAT:
            raise FoodchainError(
                f"run {run_id} was saved by a newer foodchain (record format {record.format}, "
                f"this version reads up to {RECORD_FORMAT}): upgrade foodchain to read it"
            )
    except ValidationError as exc:
        raise FoodchainError(
            f"run {run_id}'s record cannot be read by this version of foodchain "
            f"({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}): "
            "use the foodchain version that made it, or plan the week again"
        ) from exc
    return StoredRun(
        summary=_summary(run),
        parameters=dict(run.parameters),
        statistics=dict(run.statistics),
        kpis=dict(run.kpis),
        record=record,
    )


def run_kpis(engine: Engine, run_id: int) -> dict[str, Any]:
    """A run's kpis.json alone (reports read many weeks: no record to parse)."""
    with transaction(engine) as session:
        kpis = session.exec(select(Run.kpis).where(Run.id == run_id)).first()
    if kpis is None:
        raise _missing(run_id)
    return dict(kpis)


def publish_run(
    engine: Engine, run_id: int, replace: bool = False, force: bool = False
) -> RunSummary:
    """Make a draft the week's published run; ``replace`` supersedes the one published before.

    A run whose rounds leave mandatory stops out is published only with ``force``.

    Publishing the published run again changes nothing. Superseding and publishing happen in
    one transaction, so the week always has exactly one published run once it has had one.
    """
    week: str | None = None
    try:
        with write_transaction(engine) as session:
            week = session.exec(select(Run.week).where(Run.id == run_id)).first()
            if week is None:
                raise _missing(run_id)
            runs = _week_runs(session, week)
            run = next(r for r in runs if r.id == run_id)
            if run.status == RunStatus.PUBLISHED:
                return _summary(run)
            left_out = int(kpi_at(run.kpis, "transport.unserved_mandatory_stops") or 0)
            if left_out and not force:
                raise UnservedPlanError(
                    week,
                    left_out,
                    [f"see 'foodchain runs show {run_id}'"],
                    f"run {run_id} was not published",
                    "--force",
                )
            if run.status == RunStatus.SUPERSEDED:
                raise FoodchainError(
                    f"run {run_id} of {week} was superseded and cannot be published again: "
                    "plan the week again ('foodchain plan') and publish the new run"
                )
            published = [r for r in runs if r.status == RunStatus.PUBLISHED]
            if published and not replace:
                raise FoodchainError(
                    f"run {published[0].id} is already published for {week}: pass --replace "
                    f"to supersede it with run {run_id}"
                )
            for other in published:
                other.status = RunStatus.SUPERSEDED
                session.add(other)
            # Superseded first: the unique index checks each UPDATE as it runs.
            session.flush()
            run.status = RunStatus.PUBLISHED
            run.published_at = dt.datetime.now(dt.UTC)
            session.add(run)
            session.flush()
            return _summary(run)
    except IntegrityError as exc:
        raise FoodchainError(
            f"another run of {week} was published meanwhile: see 'foodchain runs list --week "
            f"{week}', then publish run {run_id} again with --replace if it should replace it"
        ) from exc
    except OperationalError as exc:
        if "locked" in str(exc.orig):
            raise FoodchainError(
                f"the database stayed busy while publishing run {run_id}: another foodchain "
                "command is writing to it; try again in a moment"
            ) from exc
        raise DatabaseError(f"cannot publish run {run_id}: {exc.orig}") from exc


# --------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class ValueChange:
    """One KPI or parameter that differs; ``delta`` when both values are numbers."""

    key: str
    old: Any
    new: Any

    @property
    def delta(self) -> float | None:
        if _is_number(self.old) and _is_number(self.new):
            return float(self.new - self.old)
        return None


@dataclass(frozen=True)
class FlowChange:
    """kg of a farm's product for a destination and delivery day, summed over purposes."""

    farm_id: str
    product_id: str
    destination_id: str
    delivery_day: dt.date
    old_kg: float
    new_kg: float

    @property
    def kind(self) -> str:
        """added, removed or changed."""
        if self.old_kg <= KG_TOLERANCE:
            return "added"
        if self.new_kg <= KG_TOLERANCE:
            return "removed"
        return "changed"

    @property
    def delta_kg(self) -> float:
        return self.new_kg - self.old_kg


@dataclass(frozen=True)
class BasketChange:
    """What a basket size holds of a product (None: not in that run's baskets)."""

    basket_type: str
    product_id: str
    old_kg: float | None
    new_kg: float | None


@dataclass(frozen=True)
class RouteChange:
    """A vehicle's day: its trips' visited sites (hub excluded) and road km, in each run."""

    day: dt.date
    vehicle_id: str
    old_trips: tuple[tuple[str, ...], ...]
    new_trips: tuple[tuple[str, ...], ...]
    old_km: float
    new_km: float

    @property
    def same_stops(self) -> bool:
        return self.old_trips == self.new_trips


@dataclass(frozen=True)
class RunDiff:
    """What changed from run ``a`` to run ``b``."""

    a: RunSummary
    b: RunSummary
    same_fingerprint: bool
    """False: the plans were made from different inputs (forecasts, menus, subscriptions...)."""
    parameter_changes: list[ValueChange]
    kpi_changes: list[ValueChange]
    flow_changes: list[FlowChange]
    basket_changes: list[BasketChange]
    route_changes: list[RouteChange]

    @property
    def same_parameters(self) -> bool:
        return not self.parameter_changes

    @property
    def is_empty(self) -> bool:
        """The two runs plan the same deliveries, baskets and rounds with the same KPIs."""
        return not (
            self.kpi_changes or self.flow_changes or self.basket_changes or self.route_changes
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _differs(old: Any, new: Any) -> bool:
    if _is_number(old) and _is_number(new):
        return not math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-9)
    return bool(old != new)


def _value_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ValueChange]:
    a, b = _flatten(old), _flatten(new)
    return [
        ValueChange(key, a.get(key), b.get(key))
        for key in sorted(a.keys() | b.keys())
        if key not in a or key not in b or _differs(a[key], b[key])
    ]


FlowKey = tuple[str, str, str, dt.date]


def _flow_kg(record: PlanRecord) -> dict[FlowKey, float]:
    kg: dict[FlowKey, float] = defaultdict(float)
    for f in record.flows:
        kg[(f.farm_id, f.product_id, f.destination_id, f.delivery_day)] += f.kg
    return kg


def _flow_changes(old: PlanRecord, new: PlanRecord) -> list[FlowChange]:
    a, b = _flow_kg(old), _flow_kg(new)
    return [
        FlowChange(*key, old_kg=a.get(key, 0.0), new_kg=b.get(key, 0.0))
        for key in sorted(a.keys() | b.keys())
        if abs(b.get(key, 0.0) - a.get(key, 0.0)) > KG_TOLERANCE
    ]


def _basket_changes(old: PlanRecord, new: PlanRecord) -> list[BasketChange]:
    def contents(record: PlanRecord) -> dict[tuple[str, str], float]:
        kg: dict[tuple[str, str], float] = defaultdict(float)
        for row in record.baskets:
            kg[(row.basket_type_id, row.product_id)] += row.kg_per_basket
        return kg

    a, b = contents(old), contents(new)
    out = []
    for key in sorted(a.keys() | b.keys()):
        before, after = a.get(key), b.get(key)
        if before is None or after is None or abs(after - before) > KG_TOLERANCE:
            out.append(BasketChange(*key, old_kg=before, new_kg=after))
    return out


RouteKey = tuple[dt.date, str]


def _routes(record: PlanRecord) -> dict[RouteKey, tuple[tuple[tuple[str, ...], ...], float]]:
    trips: dict[RouteKey, list[tuple[str, ...]]] = defaultdict(list)
    km: dict[RouteKey, float] = defaultdict(float)
    for (day, vehicle_id, _trip), rows in record.trips().items():
        visits = tuple(r.site_id for r in rows if r.action not in ("depart", "return"))
        trips[(day, vehicle_id)].append(visits)
        km[(day, vehicle_id)] += sum(r.km for r in rows)
    return {key: (tuple(trips[key]), km[key]) for key in trips}


def _route_changes(old: PlanRecord, new: PlanRecord) -> list[RouteChange]:
    a, b = _routes(old), _routes(new)
    out = []
    for key in sorted(a.keys() | b.keys()):
        old_trips, old_km = a.get(key, ((), 0.0))
        new_trips, new_km = b.get(key, ((), 0.0))
        if old_trips != new_trips or abs(new_km - old_km) > KM_TOLERANCE:
            out.append(RouteChange(*key, old_trips, new_trips, old_km, new_km))
    return out


def diff_runs(engine: Engine, a: int, b: int) -> RunDiff:
    """Compare run ``a`` (old) with run ``b`` (new): KPIs, flows, baskets, rounds, inputs."""
    old, new = load_run(engine, a), load_run(engine, b)
    return RunDiff(
        a=old.summary,
        b=new.summary,
        same_fingerprint=old.summary.fingerprint == new.summary.fingerprint,
        parameter_changes=_value_changes(old.parameters, new.parameters),
        kpi_changes=_value_changes(old.kpis, new.kpis),
        flow_changes=_flow_changes(old.record, new.record),
        basket_changes=_basket_changes(old.record, new.record),
        route_changes=_route_changes(old.record, new.record),
    )


__all__ = [
    "DISPLAY_KPIS",
    "BasketChange",
    "FlowChange",
    "PlanLike",
    "RouteChange",
    "RunDiff",
    "RunSummary",
    "StoredRun",
    "ValueChange",
    "diff_runs",
    "list_runs",
    "load_run",
    "publish_run",
    "run_summary",
    "save_run",
]
