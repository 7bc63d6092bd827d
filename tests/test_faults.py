"""Faults while a plan is kept: documents never exist without their run, nothing foodchain did
not write is deleted, a killed writer's leftovers are cleaned up or put back (issue 18).

Process tests kill a real `foodchain plan` with SIGKILL at a chosen stage (a patched function
kills its own process), on every backend; each then checks that the database and the
documents folders agree: every documents folder is a stored run's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from foodchain.db import open_database
from foodchain.documents import MARK, write_documents
from foodchain.errors import FoodchainError
from foodchain.plan import PlanOptions
from foodchain.plan.weekly import plan_week
from foodchain.runs import list_runs, load_run
from foodchain.scenario import Scenario, install_scenario
from foodchain.weeks import Week

from .conftest import TINY, Cli

TINY_SUBSCRIPTIONS = TINY.parent / "tiny" / "subscriptions.csv"

WEEK = "2026-W49"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".xlsx"  # openpyxl stamps the time of writing
    }


def _plan(cli: Cli, *extra: str | Path, code: int = 0) -> str:
    """The command's output with the terminal's line breaks taken out."""
    return cli("plan", "--week", WEEK, "--deterministic", *extra, code=code).replace("\n", "")


def _dead_pid() -> int:
    code = "import os; print(os.getpid())"
    child = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(child.stdout)


def test_each_run_has_its_own_folder_and_a_draft_never_replaces_a_published_one(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert "plans/2026-W49/run-1" in _plan(cli)
    cli("runs", "publish", "1")
    published = _tree(tmp_path / "plans" / WEEK / "run-1")
    _plan(cli, "--seed", "3")
    assert _tree(tmp_path / "plans" / WEEK / "run-1") == published
    assert (tmp_path / "plans" / WEEK / "run-2" / "index.html").is_file()


def test_a_folder_with_a_file_of_yours_is_refused_before_the_run_is_saved(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "docs"
    _plan(cli, "--out", out)
    signed = out / "delivery_notes" / "signed-by-the-cook.pdf"
    signed.write_bytes(b"%PDF signed")
    before = _tree(out)
    error = _plan(cli, "--out", out, "--seed", "2", code=1)
    assert "signed-by-the-cook.pdf" in error and "move them out" in error
    assert _tree(out) == before  # nothing of the person's deleted, nothing replaced
    assert [r.id for r in list_runs(engine)] == [1]  # and no run saved for a refused folder
    error = cli("runs", "export", "1", "--out", out, code=1).replace("\n", "")
    assert "signed-by-the-cook.pdf" in error and _tree(out) == before


def test_a_folder_holding_the_database_is_refused(tmp_path: Path, tiny_db: str) -> None:
    cli = Cli(tiny_db)
    error = _plan(cli, "--out", tmp_path, code=1)
    assert "holds the database" in error
    assert (tmp_path / "tiny.db").is_file()
    assert list_runs(open_database(tiny_db)) == []


@pytest.fixture
def tiny_db(tmp_path: Path, tiny: Scenario) -> str:
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    install_scenario(open_database(url), tiny)
    return url


def test_documents_that_cannot_be_written_leave_the_run_saved_and_say_how_to_write_them(
    cli: Cli, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import foodchain.documents as documents

    def disk_full(*args: object) -> list[Path]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(documents, "_write_all", disk_full)
    out = tmp_path / "docs"
    error = _plan(cli, "--out", out, code=1)
    assert "run 1 is saved as a draft" in error and "No space left on device" in error
    assert "foodchain runs export 1" in error
    assert not out.exists() and not list(tmp_path.glob(".docs.*"))  # no staging left
    monkeypatch.undo()
    cli("runs", "export", "1", "--out", out)
    assert (out / "index.html").is_file()
    assert load_run(engine, 1).record.week == WEEK


_KILLER = """
import os, signal, sys
import {module} as target
real = target.{name}

def killed(*args, **kwargs):
    if {after}:
        real(*args, **kwargs)
    os.kill(os.getpid(), signal.{signal})

target.{name} = killed
from foodchain.cli import app
app(sys.argv[1:], prog_name="foodchain")
"""


def _killed_plan(
    db_url: str, cwd: Path, module: str, name: str, after: bool, signal: str = "SIGKILL"
) -> int:
    script = _KILLER.format(module=module, name=name, after=after, signal=signal)
    args = ["--db", db_url, "plan", "--week", WEEK, "--deterministic"]
    child = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, timeout=300
    )
    return child.returncode


@pytest.mark.parametrize(
    ("module", "name", "after", "runs"),
    [
        ("foodchain.plan.weekly", "allocate", False, 1),  # allocating
        ("foodchain.plan.weekly", "route_flows", False, 1),  # routing
        ("foodchain.plan.saving", "save_run", False, 1),  # before the run is stored
        ("foodchain.documents", "_write_all", True, 2),  # documents written aside, not in place
        ("foodchain.documents", "_put_in_place", False, 2),  # the same, at the swap
    ],
)
@pytest.mark.parametrize(("signal", "code"), [("SIGKILL", -9), ("SIGINT", 130)])
def test_a_plan_killed_at_each_stage_leaves_runs_and_folders_that_agree(
    cli: Cli,
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    module: str,
    name: str,
    after: bool,
    runs: int,
    signal: str,
    code: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL (nothing runs after it) or Ctrl-C (exit 130) at each stage."""
    monkeypatch.chdir(tmp_path)
    _plan(cli)  # run 1 and its documents
    first = _tree(tmp_path / "plans" / WEEK / "run-1")
    assert _killed_plan(db_url, tmp_path, module, name, after, signal) == code
    assert [r.id for r in list_runs(engine)][::-1] == list(range(1, runs + 1))
    names = [p.name for p in (tmp_path / "plans" / WEEK).iterdir()]
    assert [n for n in names if not n.startswith(".")] == ["run-1"]  # no folder without a run
    assert all(n.startswith(".run-2.writing-") for n in names if n.startswith("."))
    assert _tree(tmp_path / "plans" / WEEK / "run-1") == first
    if runs == 2:  # stored, documents not in place: the export writes them, cleaning up
        cli("runs", "export", "2")
        assert sorted(p.name for p in (tmp_path / "plans" / WEEK).iterdir()) == [
            "run-1",
            "run-2",
        ]
        assert (tmp_path / "plans" / WEEK / "run-2" / MARK).is_file()


def test_a_swap_cut_short_is_put_back_and_leftovers_of_dead_writers_removed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import foodchain.documents as documents

    record = plan_week(engine, Week.parse(WEEK), PlanOptions(deterministic=True)).record
    folder = tmp_path / "plans" / "W"
    write_documents(record, folder)
    before = _tree(folder)
    dead = _dead_pid()
    os.rename(folder, folder.parent / f".W.old-{dead}-abcd1234")  # killed between two renames
    (folder.parent / f".W.writing-{dead}-ffff0000").mkdir()  # and its half-written staging
    live = folder.parent / f".W.writing-{os.getpid()}-00000000"  # a writer still at work
    live.mkdir()

    def disk_full(*args: object) -> list[Path]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(documents, "_write_all", disk_full)
    with pytest.raises(FoodchainError, match="No space left"):
        write_documents(record, folder)  # fails, after putting the folder back
    assert _tree(folder) == before
    assert sorted(p.name for p in folder.parent.iterdir()) == [live.name, "W"]


def test_plan_options_refuse_what_no_run_can_store() -> None:
    for bad in (
        {"seed": 2**31},
        {"seed": -1},
        {"time_limit_s": float("nan")},
        {"time_limit_s": 0.0},
        {"time_limit_s": float("inf")},
    ):
        with pytest.raises(FoodchainError):
            PlanOptions(**bad)


def test_a_seed_out_of_range_is_refused_before_any_work(cli: Cli, engine: Engine) -> None:
    error = _plan(cli, "--seed", "2147483648", code=2)
    assert "--seed" in error and "2147483647" in error
    assert list_runs(engine) == []


def test_storage_faults_get_a_message_with_the_fix_and_no_sql(
    tmp_path: Path, tiny_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database opened read-only, a file that is not a database, a write lock held by
    another process past the wait: each is a sentence with its fix, never an SQL dump."""
    database = tmp_path / "tiny.db"
    changed = tmp_path / "abonnements.csv"
    changed.write_text(
        TINY_SUBSCRIPTIONS.read_text(encoding="utf-8").replace(",small,4,", ",small,5,"),
        encoding="utf-8",
    )
    read_only = Cli(f"sqlite:///file:{database}?mode=ro&uri=true")
    error = " ".join(read_only("subscriptions", "import", changed, code=1).split())
    assert "read-only" in error and "Fix:" in error and "INSERT" not in error
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database, it is a letter to the cook" * 200)
    error = " ".join(Cli(f"sqlite:///{damaged}")("runs", "list", code=1).split())
    assert "damaged or is not a foodchain database" in error and "SELECT" not in error
    monkeypatch.setenv("FOODCHAIN_LOCK_WAIT_S", "1")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        error = " ".join(Cli(tiny_db)("subscriptions", "import", changed, code=1).split())
        assert "Waiting for another foodchain command to finish writing" in error
        assert "kept the database busy for more than 1 s" in error
        assert "FOODCHAIN_LOCK_WAIT_S" in error
    finally:
        holder.kill()
        holder.wait()


_HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(60)
"""


def test_an_allocation_tier_without_a_solution_is_a_clear_refusal(
    cli: Cli, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An LP solver that ends with no solution (numerical trouble) is named, with the tier and
    its status, and the plan is not made (it was a RuntimeError and an internal error)."""
    from foodchain.allocation import lp

    def no_solution(*args: object, **kwargs: object) -> tuple[str, float, None, None]:
        return "abnormal", float("nan"), None, None

    monkeypatch.setattr(lp.Model, "solve", no_solution)
    error = _plan(cli, code=1)
    assert "the allocation's canteens tier found no solution (abnormal)" in error
    assert "Internal error" not in error
    assert list_runs(engine) == []


_HOLD_PG_LOCK = """
import sys, time
import psycopg
from foodchain.db import WRITERS_LOCK
with psycopg.connect(sys.argv[1].replace("postgresql+psycopg", "postgresql")) as connection:
    connection.execute("select pg_advisory_lock(%s)", (WRITERS_LOCK,))
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_writer_waiting_on_postgresql_gives_up_with_a_message(
    pg_url: str, tiny: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holds foodchain's lock: the import waits FOODCHAIN_LOCK_WAIT_S (it
    waited forever), then says so; nothing written."""
    install_scenario(open_database(pg_url), tiny)
    changed = tmp_path / "abonnements.csv"
    changed.write_text(
        TINY_SUBSCRIPTIONS.read_text(encoding="utf-8").replace(",small,4,", ",small,5,"),
        encoding="utf-8",
    )
    monkeypatch.setenv("FOODCHAIN_LOCK_WAIT_S", "1")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_PG_LOCK, pg_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        error = " ".join(Cli(pg_url)("subscriptions", "import", changed, code=1).split())
        assert "Waiting for another foodchain command to finish writing" in error
        assert "kept the database busy for more than 1 s" in error, error
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted for the test (skipped, saying why, where mounting is not allowed)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()[:80]})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path) -> None:
    """Take every free byte of the disk."""
    with (disk / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(bytes(64 * 1024))
                filler.flush()
        except OSError:
            pass


def test_a_full_disk_leaves_the_database_intact_and_says_so(
    small_disk: Path, tiny: Scenario, tmp_path: Path
) -> None:
    """The database on a disk that fills up: the import is refused with the fix, nothing is
    half-written, the database still reads; documents on a full disk leave the run saved and
    no half-written folder."""
    url = f"sqlite:///{small_disk / 'foodchain.db'}"
    install_scenario(open_database(url), tiny)
    changed = tmp_path / "abonnements.csv"
    changed.write_text(
        TINY_SUBSCRIPTIONS.read_text(encoding="utf-8").replace(",small,4,", ",small,5,"),
        encoding="utf-8",
    )
    cli = Cli(url)
    _fill(small_disk)
    error = " ".join(cli("subscriptions", "import", changed, code=1).split())
    assert "disk holding the database is full" in error or "No space left" in error, error
    (small_disk / "filler").unlink()
    assert "0 added, 1 changed" in cli("subscriptions", "import", changed, "--dry-run")
    # Documents: the run is saved (the disk has room for it), its folder cannot be written.
    _fill_but(small_disk, keep=128 * 1024)
    out = small_disk / "documents"
    error = " ".join(_plan(cli, "--out", out, code=1).split())
    assert "is saved as a draft" in error and "runs export" in error, error
    assert not out.exists()
    assert not [p for p in small_disk.iterdir() if p.name.startswith(".documents.")]


def _fill_but(disk: Path, keep: int) -> None:
    """Take the disk's free space but ``keep`` bytes."""
    free = shutil.disk_usage(disk).free - keep
    with (disk / "filler").open("wb") as filler:
        filler.write(bytes(max(0, free)))


def test_a_lock_taken_during_the_plan_leaves_no_run_and_no_documents(
    tiny_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock while the plan runs: the plan says it waits,
    gives up after FOODCHAIN_LOCK_WAIT_S, and leaves neither a run nor a documents folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOODCHAIN_LOCK_WAIT_S", "1")
    database = tmp_path / "tiny.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        error = _plan(Cli(tiny_db), code=1)
        assert "Waiting for another foodchain command" in error
        assert "kept the database busy" in error
    finally:
        holder.kill()
        holder.wait()
    assert list_runs(open_database(tiny_db)) == []
    assert not (tmp_path / "plans").exists()
