"""Stored plan runs on SQLite and PostgreSQL: round trip, publishing rules, diff, races, upgrade.

Runs are made from small hand-built records: nothing is solved here.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

import foodchain.runs as runs
from foodchain.allocation import BasketFill, BasketLine, Flow
from foodchain.db import head_revision, make_engine, open_database, schema_revision, upgrade
from foodchain.documents import write_documents
from foodchain.errors import FoodchainError
from foodchain.models import RunStatus
from foodchain.organic import OrganicStatus
from foodchain.plan.kpis import compute_kpis
from foodchain.plan.record import (
    RECORD_FORMAT,
    DayStats,
    PlanRecord,
    ProductInfo,
    SiteInfo,
    StopRow,
    VehicleInfo,
)
from foodchain.runs import diff_runs, list_runs, load_run, publish_run, save_run

from .snapshot import COLD_CHAIN, copy_at_schema, snapshot

WEEK = "2026-W49"
THU = dt.date(2026, 12, 3)
FRI = dt.date(2026, 12, 4)


def _site(id: str, kind: str, lat: float) -> SiteInfo:
    return SiteInfo(id=id, kind=kind, name=id.replace("_", " ").title(), lat=lat, lon=2.8)


def _stops(day: dt.date, vehicle: str, visits: list[str], km: float) -> list[StopRow]:
    """One trip hub -> visits -> hub, ``km`` spread evenly over its legs."""
    leg = km / (len(visits) + 1)
    rows = [
        StopRow(
            day=day,
            vehicle_id=vehicle,
            trip=1,
            seq=0,
            site_id="hub",
            action="depart",
            arrival=360,
            departure=370,
            load_kg=0,
            km=0,
        )
    ]
    for seq, site in enumerate(visits, start=1):
        rows.append(
            StopRow(
                day=day,
                vehicle_id=vehicle,
                trip=1,
                seq=seq,
                site_id=site,
                action="pickup" if site.startswith("farm") else "delivery",
                arrival=370 + 20 * seq,
                departure=380 + 20 * seq,
                load_kg=10,
                km=leg,
            )
        )
    rows.append(
        StopRow(
            day=day,
            vehicle_id=vehicle,
            trip=1,
            seq=len(visits) + 1,
            site_id="hub",
            action="return",
            arrival=500,
            departure=510,
            load_kg=0,
            km=leg,
        )
    )
    return rows


def make_record(
    week: str = WEEK,
    carrot_kg: float = 12.0,
    leek_kg: float = 5.0,
    extra_flow: bool = False,
    visits: tuple[str, ...] = ("farm_a", "school"),
    km: float = 24.0,
    leek_per_basket: float = 0.5,
    flows: int = 0,
) -> PlanRecord:
    """A two-farm week: carrots to a school, leeks into baskets, one round on Thursday."""

    def flow(farm: str, product: str, to: str, kg: float, purpose: str) -> Flow:
        return Flow(
            farm_id=farm,
            product_id=product,
            destination_id=to,
            pickup_day=THU,
            delivery_day=THU,
            kg=kg,
            purpose=purpose,
            item_id=product if purpose == "canteen" else "small",
            organic_status=OrganicStatus.ORGANIC,
            price_eur_per_kg=2.0,
        )

    rows = [
        flow("farm_a", "carrot", "school", carrot_kg, "canteen"),
        flow("farm_b", "leek", "relay", leek_kg, "basket"),
    ]
    if extra_flow:
        rows.append(flow("farm_b", "leek", "school", 2.0, "canteen"))
    rows += [flow("farm_a", "carrot", "school", 0.001, "canteen") for _ in range(flows)]
    record = PlanRecord(
        week=week,
        scenario="tiny",
        hub_id="hub",
        allocation_status="optimal",
        supply_kg=40.0,
        canteen_demand_kg=14.0,
        diesel_co2_kg_per_km=0.317,
        sites={
            s.id: s
            for s in (
                _site("hub", "hub", 50.45),
                _site("farm_a", "farm", 50.46),
                _site("farm_b", "farm", 50.47),
                _site("school", "canteen", 50.43),
                _site("relay", "relay", 50.42),
            )
        },
        products={p: ProductInfo(id=p, name=p.title(), family="root") for p in ("carrot", "leek")},
        vehicles={
            "van": VehicleInfo(
                id="van", name="Van", type="cng_van_small", capacity_kg=800, co2_kg_per_km=0.2
            )
        },
        names={"small": "Petit panier"},
        canteen_rules={"school": (0.2, 0.5)},
        flows=rows,
        baskets=[
            BasketLine(
                basket_type_id="small", product_id="leek", kg_per_basket=leek_per_basket, baskets=10
            )
        ],
        fills=[
            BasketFill(basket_type_id="small", relay_point_id="relay", day=THU, due=10, filled=10)
        ],
        shortfalls=[],
        surplus=[],
        fairness=[],
        stops=_stops(THU, "van", list(visits), km),
        unserved=[],
        days=[
            DayStats(
                day=THU,
                seconds=0.5,
                cost_eur=30.0,
                km=km,
                co2_kg=km * 0.2,
                vehicles_used=1,
                found_solution=True,
            )
        ],
        statistics={"allocation": {"variables": 12}},
    )
    return record.model_copy(update={"kpis": compute_kpis(record)})


@dataclass(frozen=True)
class FakePlan:
    """What save_run reads of a foodchain.plan.Plan."""

    record: PlanRecord
    fingerprint: str = "a" * 64
    parameters: dict[str, Any] = field(default_factory=lambda: {"seed": 3, "time_limit_s": 6.0})
    seconds: float = 1.5


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    yield engine
    engine.dispose()


def _error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(FoodchainError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


# --------------------------------------------------------------------------- storing


def test_save_list_load_round_trip(db):
    record = make_record()
    first = save_run(db, FakePlan(record))
    other_week = save_run(db, FakePlan(make_record(week="2026-W50"), fingerprint="b" * 64))
    second = save_run(db, FakePlan(record, parameters={"seed": 7}))

    listed = list_runs(db)
    assert [r.id for r in listed] == [second, other_week, first]
    assert [r.id for r in list_runs(db, "2026-W49")] == [second, first]
    assert [r.id for r in list_runs(db, "2026w50")] == [other_week]
    assert list_runs(db, "2026-W51") == []
    summary = listed[-1]
    assert summary.status is RunStatus.DRAFT and summary.published_at is None
    assert summary.week == WEEK and summary.seed == 3 and summary.scenario == "tiny"
    assert summary.fingerprint == "a" * 64
    assert summary.created_at.tzinfo is not None
    assert abs(summary.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert summary.kpis["canteens_share"] == record.kpis["fulfilment"]["canteens"]["share"]
    assert summary.kpis["km"] == pytest.approx(24.0)

    stored = load_run(db, first)
    assert stored.record == record
    assert stored.summary == summary
    assert stored.kpis == record.kpis
    assert stored.parameters == {"seed": 3, "time_limit_s": 6.0}
    assert stored.statistics == {"allocation": {"variables": 12}, "seconds": 1.5}
    assert load_run(db, second).summary.seed == 7


def test_a_large_record_round_trips(db):
    record = make_record(flows=5000)
    assert len(record.model_dump_json()) > 1_000_000
    assert load_run(db, save_run(db, FakePlan(record))).record == record


def test_unknown_run_and_bad_week_are_clear_errors(db):
    assert _error(load_run, db, 42) == "no run 42: see 'foodchain runs list'"
    assert _error(publish_run, db, 42) == "no run 42: see 'foodchain runs list'"
    run = save_run(db, FakePlan(make_record()))
    assert "no run 43" in _error(diff_runs, db, run, 43)
    assert "write it like 2026-W49" in _error(list_runs, db, "next week")


def test_a_plan_with_a_day_left_unrouted_is_not_stored(db):
    record = make_record()
    unrouted = record.days[0].model_copy(update={"found_solution": False})
    incomplete = record.model_copy(update={"days": [unrouted]})
    assert "found no rounds for Thu 03 Dec" in _error(save_run, db, FakePlan(incomplete))
    assert list_runs(db) == []


# --------------------------------------------------------------------------- publishing


def test_publish_replace_and_supersede(db):
    record = make_record()
    first, second = (save_run(db, FakePlan(record)) for _ in range(2))
    next_week = save_run(db, FakePlan(make_record(week="2026-W50")))

    published = publish_run(db, first)
    assert published.status is RunStatus.PUBLISHED and published.published_at is not None
    assert publish_run(db, first) == published  # again: nothing changes

    message = _error(publish_run, db, second)
    assert f"run {first} is already published for {WEEK}" in message
    assert "--replace" in message
    assert load_run(db, second).status is RunStatus.DRAFT

    assert publish_run(db, next_week).status is RunStatus.PUBLISHED  # other weeks are apart

    replaced = publish_run(db, second, replace=True)
    assert replaced.status is RunStatus.PUBLISHED
    old = load_run(db, first)
    assert old.status is RunStatus.SUPERSEDED
    assert old.record == record and old.kpis == record.kpis  # content never changes
    assert old.summary.published_at == published.published_at
    assert "superseded and cannot be published again" in _error(publish_run, db, first)
    assert "superseded" in _error(publish_run, db, first, replace=True)
    assert {r.id: r.status for r in list_runs(db)} == {
        first: RunStatus.SUPERSEDED,
        second: RunStatus.PUBLISHED,
        next_week: RunStatus.PUBLISHED,
    }


def test_replace_without_a_published_run_just_publishes(db):
    run = save_run(db, FakePlan(make_record()))
    assert publish_run(db, run, replace=True).status is RunStatus.PUBLISHED


def test_the_api_has_no_way_to_change_a_run():
    """Published runs are never overwritten: keep it so by offering no update at all."""
    assert not [n for n in runs.__all__ if n.startswith(("update", "set_", "edit", "delete"))]


def test_the_database_refuses_a_second_published_run(db):
    a, b, c = (save_run(db, FakePlan(make_record())) for _ in range(3))
    d = save_run(db, FakePlan(make_record(week="2026-W50")))
    publish_run(db, a)
    set_status = text("update plan_run set status = :status where id = :id")
    with pytest.raises(IntegrityError), db.begin() as connection:
        connection.execute(set_status, {"status": "published", "id": b})
    with db.begin() as connection:  # any number of drafts and superseded runs is fine
        connection.execute(set_status, {"status": "superseded", "id": b})
        connection.execute(set_status, {"status": "superseded", "id": c})
        connection.execute(set_status, {"status": "published", "id": d})
    assert load_run(db, b).status is RunStatus.SUPERSEDED


def test_a_run_published_meanwhile_is_a_clear_error(db, monkeypatch):
    """Another publisher commits between our read and our write: the unique index answers."""
    a, b = (save_run(db, FakePlan(make_record())) for _ in range(2))
    week_runs = runs._week_runs

    def racing(session: Session, week: str) -> list[Any]:
        found = week_runs(session, week)
        session.connection().execute(
            text("update plan_run set status = 'published' where id = :id"), {"id": a}
        )
        return found

    monkeypatch.setattr(runs, "_week_runs", racing)
    message = _error(publish_run, db, b)
    assert message.startswith(f"another run of {WEEK} was published meanwhile")
    assert "--replace" in message
    assert {r.status for r in list_runs(db)} == {RunStatus.DRAFT}  # rolled back


def _publish_in_child(url: str, run_id: int, barrier: Any, results: Any, pause: float) -> None:
    """Runs in a spawned process: connect, wait for the others, publish at the same moment.

    ``pause`` holds the process between reading the week's runs and writing, so that without
    the lock every publisher would read "nothing published yet"."""
    if pause:
        read = runs._week_runs

        def slow_read(session: Session, week: str) -> list[Any]:
            found = read(session, week)
            time.sleep(pause)
            return found

        runs._week_runs = slow_read  # this process only
    engine = make_engine(url)
    engine.connect().close()
    barrier.wait(timeout=60)
    try:
        publish_run(engine, run_id)
        results.put((run_id, "published"))
    except FoodchainError as exc:
        results.put((run_id, f"error: {exc}"))
    except Exception as exc:  # reported, so the test shows what went wrong
        results.put((run_id, f"crash: {exc!r}"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("pause", [0.0, 0.3], ids=["at-once", "slow-readers"])
def test_concurrent_publishers_leave_one_published_run(db, db_url, pause):
    """Real processes; with slow readers the lock must make the others wait, then refuse."""
    ids = [save_run(db, FakePlan(make_record())) for _ in range(3)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(ids))
    results = context.Queue()
    processes = [
        context.Process(target=_publish_in_child, args=(db_url, run_id, barrier, results, pause))
        for run_id in ids
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    winners = [run_id for run_id, outcome in outcomes.items() if outcome == "published"]
    assert len(winners) == 1, outcomes
    for run_id in set(ids) - set(winners):
        assert outcomes[run_id].startswith("error: "), outcomes
        assert "already published" in outcomes[run_id] or "meanwhile" in outcomes[run_id]
        if pause:  # serialised by the lock, not merely caught by the unique index
            assert "already published" in outcomes[run_id], outcomes
    statuses = {r.id: r.status for r in list_runs(db)}
    assert statuses == {
        run_id: RunStatus.PUBLISHED if run_id in winners else RunStatus.DRAFT for run_id in ids
    }


# --------------------------------------------------------------------------- diff


def test_identical_runs_have_no_diff(db):
    record = make_record()
    a, b = save_run(db, FakePlan(record)), save_run(db, FakePlan(record, seconds=9.0))
    diff = diff_runs(db, a, b)
    assert diff.is_empty and diff.same_fingerprint and diff.same_parameters
    assert (diff.a.id, diff.b.id) == (a, b)
    assert diff_runs(db, a, a).is_empty


def test_diff_finds_changed_flows_kpis_baskets_and_routes(db):
    a = save_run(db, FakePlan(make_record()))
    b = save_run(
        db,
        FakePlan(
            make_record(
                carrot_kg=10.0,
                leek_kg=5.0005,  # below the kg tolerance
                extra_flow=True,
                visits=("farm_b", "farm_a", "school"),
                km=30.0,
                leek_per_basket=0.6,
            ),
            fingerprint="b" * 64,
            parameters={"seed": 4, "time_limit_s": 6.0},
        ),
    )
    diff = diff_runs(db, a, b)
    assert not diff.is_empty and not diff.same_fingerprint and not diff.same_parameters
    assert [(c.key, c.old, c.new, c.delta) for c in diff.parameter_changes] == [("seed", 3, 4, 1)]

    flows = {(c.farm_id, c.product_id, c.destination_id): c for c in diff.flow_changes}
    assert set(flows) == {("farm_a", "carrot", "school"), ("farm_b", "leek", "school")}
    carrots = flows[("farm_a", "carrot", "school")]
    assert (carrots.kind, carrots.old_kg, carrots.new_kg, carrots.delivery_day) == (
        "changed",
        12.0,
        10.0,
        THU,
    )
    assert carrots.delta_kg == pytest.approx(-2.0)
    leeks = flows[("farm_b", "leek", "school")]
    assert (leeks.kind, leeks.old_kg, leeks.new_kg) == ("added", 0.0, 2.0)

    kpis = {c.key: c for c in diff.kpi_changes}
    assert "fulfilment.canteens.delivered_kg" not in kpis  # 12 kg either way
    assert (kpis["transport.km"].old, kpis["transport.km"].new) == (24.0, 30.0)
    assert kpis["transport.co2_kg"].delta == pytest.approx(1.2)
    assert "week" not in kpis

    assert [(c.basket_type, c.product_id, c.old_kg, c.new_kg) for c in diff.basket_changes] == [
        ("small", "leek", 0.5, 0.6)
    ]
    [route] = diff.route_changes
    assert (route.day, route.vehicle_id) == (THU, "van")
    assert route.old_trips == (("farm_a", "school"),)
    assert route.new_trips == (("farm_b", "farm_a", "school"),)
    assert (route.old_km, route.new_km) == pytest.approx((24.0, 30.0))
    assert not route.same_stops

    removed = diff_runs(db, b, a)
    assert {c.kind for c in removed.flow_changes} == {"changed", "removed"}


def test_diff_reports_a_longer_round_with_the_same_stops(db):
    a = save_run(db, FakePlan(make_record()))
    b = save_run(db, FakePlan(make_record(km=26.0)))
    [route] = diff_runs(db, a, b).route_changes
    assert route.same_stops and route.new_km - route.old_km == pytest.approx(2.0)


def test_kpi_values_are_flattened_with_deltas():
    changes = runs._value_changes(
        {"a": {"b": 1, "c": "x", "d": [1]}, "e": None, "f": True},
        {"a": {"b": 1.5, "c": "y", "d": [1]}, "e": 2.0, "f": True, "g": {}},
    )
    assert [(c.key, c.old, c.new, c.delta) for c in changes] == [
        ("a.b", 1, 1.5, 0.5),
        ("a.c", "x", "y", None),
        ("e", None, 2.0, None),
        ("g", None, {}, None),
    ]


# --------------------------------------------------------------------------- schema


def test_upgrading_a_0002_database_keeps_its_data(db_url, tiny, tmp_path):
    engine = copy_at_schema(db_url, tiny, tmp_path, "0002")
    before = snapshot(engine)
    assert "plan_run" not in before and before["site"]
    upgrade(engine)
    assert schema_revision(engine) == head_revision()
    after = snapshot(engine)
    blank = ("",) * 5  # the site contacts 0004 adds
    assert {k: v for k, v in after.items() if k != "alembic_version"} == {
        **{k: v for k, v in before.items() if k != "alembic_version"},
        "site": sorted(((*row, *blank) for row in before["site"]), key=repr),
        "farm": sorted(((*row, []) for row in before["farm"]), key=repr),  # 0006: no direct
        **{  # the classes and cold bodies 0007 adds
            table: sorted(((*row, *added) for row in before[table]), key=repr)
            for table, added in COLD_CHAIN.items()
        },
        "plan_run": [],
        "sent_document": [],
    }
    run = save_run(engine, FakePlan(make_record()))
    assert publish_run(engine, run).status is RunStatus.PUBLISHED
    engine.dispose()


STORED_RECORDS = sorted((Path(__file__).parent / "data" / "runs").glob("*.json"))
"""A record saved by each format's version (tiny, 2026-W49): every later version reads them."""


@pytest.mark.parametrize("path", STORED_RECORDS, ids=[p.stem for p in STORED_RECORDS])
def test_a_run_saved_by_an_earlier_version_is_read_and_exported(
    engine: Engine, path: Path, tmp_path: Path
) -> None:
    """Renaming a field of the record (or of the allocation's classes it holds) would break
    every stored run: this record, written by the version that introduced its format, must
    load with its figures unchanged and give its documents."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    record = PlanRecord.model_validate(raw)
    run_id = save_run(engine, FakePlan(record))
    stored = load_run(engine, run_id).record
    assert stored.format == raw.get("format", 1) <= RECORD_FORMAT
    assert len(stored.flows) == len(raw["flows"]) and len(stored.stops) == len(raw["stops"])
    assert sum(f.kg for f in stored.flows) == pytest.approx(sum(f["kg"] for f in raw["flows"]))
    assert stored.kpis == raw["kpis"]
    written = write_documents(stored, tmp_path / "documents")
    assert (tmp_path / "documents" / "index.html") in written


def test_a_run_from_a_newer_version_is_refused_with_a_message(engine: Engine) -> None:
    raw = json.loads(STORED_RECORDS[0].read_text(encoding="utf-8"))
    newer = PlanRecord.model_validate({**raw, "format": RECORD_FORMAT + 1})
    run_id = save_run(engine, FakePlan(newer))
    with pytest.raises(FoodchainError, match="saved by a newer foodchain"):
        load_run(engine, run_id)


# --------------------------------------------------------------------------- documents


def _bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _pages_say(folder: Path, words: str) -> bool:
    pages = list(folder.rglob("*.html"))
    return bool(pages) and all(words in p.read_text(encoding="utf-8") for p in pages)


def test_published_documents_are_stamped_and_never_overwritten(db, tmp_path):
    from foodchain.plan.saving import export_run, publish_plan, save_plan

    plans = tmp_path / "plans"
    week = plans / WEEK
    first = save_plan(db, FakePlan(make_record()), plans=plans)
    assert first.folder == week / "run-1"
    planned = runs.run_summary(db, 1).created_at.astimezone()
    assert _pages_say(week / "run-1", f"BROUILLON - run 1 · planifié le {planned:%d/%m/%Y}")

    published = publish_plan(db, 1, plans=plans)
    assert (published.folder, published.run_folder) == (week / "published", week / "run-1")
    assert published.documents and all(
        p.is_relative_to(week / "published") for p in published.documents
    )
    at = published.summary.published_at
    assert at is not None
    stamp = f"PUBLIÉ - run 1 · publié le {at.astimezone():%d/%m/%Y à %H:%M}"
    for folder in ("published", "run-1"):  # the run's own folder no longer says draft
        assert _pages_say(week / folder, stamp), folder
        assert not any("BROUILLON" in p.read_text("utf-8") for p in (week / folder).rglob("*.html"))
    sent = {folder: _bytes(week / folder) for folder in ("published", "run-1")}

    # A re-plan is a new draft in its own folder: what people were sent does not change.
    second = save_plan(db, FakePlan(make_record(carrot_kg=20.0)), plans=plans)
    assert second.folder == week / "run-2"
    assert _pages_say(week / "run-2", "BROUILLON - run 2")
    # ...nor can a plan or an export be written over it, and nothing is stored for trying.
    for folder in ("published", "run-1"):
        message = _error(save_plan, db, FakePlan(make_record()), week / folder, plans=plans)
        assert "published documents of run 1" in message
    assert "published documents of run 1" in _error(export_run, db, 1, plans=plans)
    assert len(list_runs(db, WEEK)) == 2
    assert publish_plan(db, 1, plans=plans).documents == []  # again: nothing rewritten
    assert {folder: _bytes(week / folder) for folder in ("published", "run-1")} == sent

    # Publishing the re-plan replaces the week's copy; run 1's folder keeps what was sent.
    publish_plan(db, 2, replace=True, plans=plans)
    assert _pages_say(week / "published", "PUBLIÉ - run 2")
    assert _pages_say(week / "run-2", "PUBLIÉ - run 2")
    assert _bytes(week / "run-1") == sent["run-1"]
    export_run(db, 1, tmp_path / "again", plans=plans)
    assert _pages_say(tmp_path / "again", "REMPLACÉ - run 1")


def test_publish_writes_the_documents_a_failed_publication_left_out(db, tmp_path):
    from foodchain.plan.saving import PublishedDocumentsNotWrittenError, publish_plan, save_plan

    plans = tmp_path / "plans"
    save_plan(db, FakePlan(make_record()), plans=plans)
    blocker = plans / WEEK / "published"
    blocker.mkdir()
    (blocker / "signed.pdf").write_bytes(b"mine")
    with pytest.raises(PublishedDocumentsNotWrittenError, match="runs publish 1"):
        publish_plan(db, 1, plans=plans)
    assert load_run(db, 1).status == RunStatus.PUBLISHED
    assert (blocker / "signed.pdf").read_bytes() == b"mine"
    (blocker / "signed.pdf").unlink()
    publish_plan(db, 1, plans=plans)
    assert _pages_say(blocker, "PUBLIÉ - run 1")
