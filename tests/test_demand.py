"""The week's demand: hand-checked on the tiny scenario, holidays and pauses on both scenarios."""

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foodchain.demand import compute_week_demand, load_week_demand
from foodchain.models import Frequency, SubscriptionIn
from foodchain.weeks import Week

from .conftest import LENSOIS, Cli

W49 = Week(2026, 49)
MON, TUE, THU = dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 3)


def _kg(demand):
    return {(d.canteen_id, d.item_id, d.delivery_day): d.kg for d in demand.canteens}


def test_tiny_canteen_demand_by_hand(tiny):
    demand = compute_week_demand(W49, tiny.catalogue(), tiny.menu_lines, tiny.subscriptions)
    # 20 covers; grams from the portion table ÷ edible fraction; delivered on the latest
    # delivery day (mon, thu) on or before the meal.
    assert _kg(demand) == {
        ("mat_basly", "carrot", MON): 1.5,  # 20 × 60 g ÷ 0.8
        ("mat_basly", "potato", MON): 3.0,  # 20 × 120 g ÷ 0.8
        ("mat_basly", "soup_vegetables", MON): pytest.approx(
            1.714, abs=1e-3
        ),  # Tue soup, 20 × 60 g ÷ mean(0.6, 0.8)
        ("mat_basly", "lettuce", THU): 0.8,  # 20 × 28 g ÷ 0.7
        ("mat_basly", "apple", THU): 4.0,  # Thu and Fri desserts, 2 × 20 × 90 g ÷ 0.9
        ("mat_basly", "leek", THU): 4.0,  # Fri side, 20 × 120 g ÷ 0.6
    }
    apple = next(d for d in demand.canteens if d.item_id == "apple")
    assert apple.meal_days == (THU, dt.date(2026, 12, 4))
    assert next(d for d in demand.canteens if d.item_id == "soup_vegetables").is_group


def test_tiny_baskets_with_biweekly_and_pause(tiny):
    catalogue = tiny.catalogue()
    w49 = compute_week_demand(W49, catalogue, [], tiny.subscriptions)
    w50 = compute_week_demand(Week(2026, 50), catalogue, [], tiny.subscriptions)
    count = lambda d: {(b.relay_point_id, b.basket_type_id): b.baskets for b in d.baskets}  # noqa: E731
    assert count(w49) == {
        ("relay_loos", "small"): 4,
        ("relay_loos", "large"): 2,
        ("relay_lens", "small"): 3,
        ("relay_lens", "large"): 1,
    }
    assert count(w50) == {
        ("relay_loos", "small"): 4,
        ("relay_loos", "large"): 2,
        ("relay_lens", "small"): 2,
    }
    assert {b.delivery_day for b in w49.baskets} == {THU}


def test_christmas_week_has_no_school_demand_but_the_elderly_home_eats(lensois):
    catalogue = lensois.catalogue()
    demand = compute_week_demand(
        Week(2026, 52), catalogue, lensois.menu_lines, lensois.subscriptions
    )
    schools = {c.site_id for c in lensois.canteens if c.holiday_calendar}
    assert schools and not any(d.canteen_id in schools for d in demand.canteens)
    assert demand.kg_of("foyer_logement") > 0
    holidays = {s.canteen_id for s in demand.skipped if s.reason.startswith("holiday")}
    assert holidays == schools
    school_week = compute_week_demand(W49, catalogue, lensois.menu_lines, lensois.subscriptions)
    assert all(school_week.kg_of(s) > 0 for s in schools)


def test_lensois_week_49_has_300_to_500_baskets(lensois):
    demand = compute_week_demand(
        W49, lensois.catalogue(), lensois.menu_lines, lensois.subscriptions
    )
    assert 300 <= demand.basket_count <= 500
    assert 200 < demand.canteen_kg < 1000


def test_elderly_home_gets_its_local_share_only(lensois):
    catalogue = lensois.catalogue()
    home = catalogue.canteens["foyer_logement"]
    # Delivered the day before (settings.calendar): W49 carries Tuesday's meals to the next
    # Monday's.
    lines = [
        m
        for m in lensois.menu_lines
        if m.canteen_id == home.site_id and MON < m.date <= MON + dt.timedelta(days=7)
    ]
    full = sum(
        (
            m.covers
            or home.covers[("mon", "tue", "wed", "thu", "fri", "sat", "sun")[m.date.weekday()]]
        )
        * (m.portion_g or catalogue.portion_grams(m.course, m.item_id, home.age_group))
        / 1000
        / catalogue.item_edible_fraction(m.item_id)
        for m in lines
    )
    demand = compute_week_demand(W49, catalogue, lensois.menu_lines, [])
    assert demand.kg_of("foyer_logement") == pytest.approx(0.15 * full, rel=1e-3)


@given(
    start=st.integers(0, 40),
    length=st.integers(1, 60),
    count=st.integers(1, 50),
    biweekly=st.booleans(),
    pauses=st.sets(st.integers(0, 100), max_size=5),
)
def test_subscription_delivers_on_its_weeks_only(start, length, count, biweekly, pauses):
    origin = Week(2026, 45)
    sub = SubscriptionIn(
        relay_point_id="r",
        basket_type_id="b",
        start_week=str(origin.shift(start)),
        end_week=str(origin.shift(start + length - 1)),
        count=count,
        frequency=Frequency.BIWEEKLY if biweekly else Frequency.WEEKLY,
        paused_weeks=[str(origin.shift(p)) for p in pauses],
    )
    for offset in range(0, 110):
        week = origin.shift(offset)
        inside = start <= offset < start + length and offset not in pauses
        on_parity = not biweekly or (offset - start) % 2 == 0
        assert sub.baskets_in(week) == (count if inside and on_parity else 0)


def test_demand_show_formats(cli):
    table = cli("demand", "show", "--week", "2026-W49")
    assert "mat_basly" in table and "relay_loos" in table and "15.0" in table
    csv_text = cli("demand", "show", "--week", "2026-W49", "--format", "csv")
    assert csv_text.splitlines()[0] == "kind,destination_id,item_id,delivery_day,weekday,kg,baskets"
    assert "canteen,mat_basly,leek,2026-12-03,thu,4.0," in csv_text
    assert "basket,relay_loos,small,2026-12-03,thu,,4" in csv_text
    assert '"kg": 1.5' in cli("demand", "show", "--week", "2026-W49", "--format", "json")
    assert "--week" in cli("demand", "show", "--week", "2026-W99", code=1)


def test_demand_from_the_database_equals_the_pure_computation(engine, tiny):
    assert load_week_demand(engine, W49) == compute_week_demand(
        W49, tiny.catalogue(), tiny.menu_lines, tiny.subscriptions
    )


def test_quick_start_main_job_on_lensois(db_url):
    cli = Cli(db_url)
    cli("init", "--scenario", LENSOIS)
    output = cli("demand", "show", "--week", "2026-W49")
    assert "foyer_logement" in output and "relay_dunkerque" in output


def _same_morning(lensois, deadline="08:00"):
    """The Lensois catalogue with produce delivered on the meal's morning, by ``deadline``."""
    calendar = {"public_holidays": lensois.settings["calendar"]["public_holidays"]}
    settings = {**lensois.settings, "calendar": {**calendar, "canteen_deadline": deadline}}
    return replace(lensois.catalogue(), settings=settings)


@pytest.mark.parametrize("holiday", [dt.date(2027, 3, 29), dt.date(2027, 5, 17)])
def test_no_school_produce_arrives_on_a_bank_holiday_the_day_before(lensois, holiday):
    """Easter Monday and Whit Monday, produce the day before (the Lensois rule): the
    élémentaires (delivered mon and thu) get Tuesday's produce with the previous Thursday's
    delivery, in the previous week's plan; nobody receives on the holiday, and the elderly
    home's holiday lunch comes before it too."""
    catalogue = lensois.catalogue()
    assert catalogue.calendar_rules.day_before
    week = Week(*holiday.isocalendar()[:2])
    demand = compute_week_demand(week, catalogue, lensois.menu_lines, lensois.subscriptions)
    before = compute_week_demand(week.shift(-1), catalogue, lensois.menu_lines, [])
    assert not [d for d in demand.canteens if d.delivery_day == holiday]
    tuesday, thursday = holiday + dt.timedelta(days=1), holiday - dt.timedelta(days=4)
    for school in ("elem_basly", "elem_jaures", "elem_ferry"):
        lines = [d for d in before.canteens if d.canteen_id == school and tuesday in d.meal_days]
        assert lines and all(d.delivery_day == thursday for d in lines)
        assert not [d for d in demand.canteens if d.canteen_id == school and tuesday in d.meal_days]
    assert any(holiday in d.meal_days for d in before.canteens if d.canteen_id == "foyer_logement")
    assert not [s for s in demand.skipped if s.canteen_id == "foyer_logement"]


@pytest.mark.parametrize("holiday", [dt.date(2027, 3, 29), dt.date(2027, 5, 17)])
def test_no_school_produce_arrives_on_a_bank_holiday_the_same_morning(lensois, holiday):
    """Produce on the meal's morning: the élémentaires get Tuesday's produce on Tuesday
    morning, not on the holiday; every Tuesday kg is still delivered."""
    catalogue = _same_morning(lensois)
    week = Week(*holiday.isocalendar()[:2])
    demand = compute_week_demand(week, catalogue, lensois.menu_lines, lensois.subscriptions)
    schools = {c.site_id for c in lensois.canteens if c.holiday_calendar}
    assert not [d for d in demand.canteens if d.canteen_id in schools and d.delivery_day == holiday]
    tuesday = holiday + dt.timedelta(days=1)
    for school in ("elem_basly", "elem_jaures", "elem_ferry"):
        lines = [d for d in demand.canteens if d.canteen_id == school and tuesday in d.meal_days]
        assert lines and all(d.delivery_day == tuesday for d in lines)
    assert not [d for d in demand.canteens if d.delivery_day == holiday]  # nobody receives
    # The elderly home eats on the holiday: its produce comes before it, and the plan says so.
    assert any(
        s.canteen_id == "foyer_logement" and s.day == holiday and "no delivery" in s.reason
        for s in demand.skipped
    )


def test_the_day_before_a_week_carries_the_next_mondays_meals_and_not_its_own(lensois):
    """W49 delivers the meals of Tuesday 1 to Monday 7 December: Monday 30 November's came
    with W48's last delivery, every meal is delivered once, on a day before it."""
    catalogue = lensois.catalogue()
    weeks = [
        compute_week_demand(w, catalogue, lensois.menu_lines, [])
        for w in (W49.shift(-1), W49, W49.shift(1))
    ]
    for demand in weeks:
        for d in demand.canteens:
            assert all(d.delivery_day < meal for meal in d.meal_days), d
    meals = [
        (d.canteen_id, d.item_id, meal)
        for demand in weeks
        for d in demand.canteens
        for meal in d.meal_days
    ]
    assert len(meals) == len(set(meals))  # once
    w49 = {meal for d in weeks[1].canteens for meal in d.meal_days}
    assert MON not in w49 and MON + dt.timedelta(days=7) in w49 and TUE in w49


def test_a_public_holiday_moves_relay_baskets_to_the_day_before(lensois):
    """Ascension, Thursday 6 May 2027: the relay points' Thursday baskets go on Wednesday,
    every basket still delivered, each move said with its reason; nothing on the holiday."""
    catalogue = lensois.catalogue()
    ascension = dt.date(2027, 5, 6)
    week = Week(2027, 18)
    usual = compute_week_demand(Week(2027, 17), catalogue, [], lensois.subscriptions)
    demand = compute_week_demand(week, catalogue, lensois.menu_lines, lensois.subscriptions)
    assert demand.baskets and not [b for b in demand.baskets if b.delivery_day == ascension]
    assert not [d for d in demand.canteens if d.delivery_day == ascension]
    thursday_relays = {b.relay_point_id for b in usual.baskets if b.delivery_day.weekday() == 3}
    moved = {m.relay_point_id: m for m in demand.moved}
    assert set(moved) == thursday_relays
    assert all(m.day == ascension - dt.timedelta(days=1) for m in moved.values())
    assert all(m.reason == "ascension" for m in moved.values())
    assert all(
        b.delivery_day == ascension - dt.timedelta(days=1)
        for b in demand.baskets
        if b.relay_point_id in moved
    )


def test_moved_baskets_go_later_when_the_scenario_says_so(lensois):
    settings = {
        **lensois.settings,
        "calendar": {**lensois.settings["calendar"], "moved_deliveries": "later"},
    }
    catalogue = replace(lensois.catalogue(), settings=settings)
    demand = compute_week_demand(Week(2027, 18), catalogue, [], lensois.subscriptions)
    assert demand.moved and all(m.day == dt.date(2027, 5, 7) for m in demand.moved)


def test_canteen_windows_close_at_the_deadline_on_the_days_they_serve(lensois):
    deadline = "08:00"
    catalogue = _same_morning(lensois, deadline)
    stored = {s.id: s for s in lensois.sites}
    for canteen in lensois.canteens:
        for day, text in catalogue.sites[canteen.site_id].windows.items():
            opens, closes = stored[canteen.site_id].windows[day].split("-")
            if canteen.covers.get(day, 0) > 0:
                assert text == f"{opens}-{min(closes, deadline)}"
            else:
                assert text == stored[canteen.site_id].windows[day]


def test_the_first_meals_after_the_holidays_come_that_morning_by_the_deadline(lensois):
    """Monday 2 November 2026, after the Toussaint holidays: no school kitchen was open in
    the week before, so its produce comes that morning, and in that week's catalogue its
    Monday window closes at the deadline (other days keep theirs)."""
    catalogue = lensois.catalogue()
    demand = compute_week_demand(Week(2026, 45), catalogue, lensois.menu_lines, [])
    monday = dt.date(2026, 11, 2)
    schools = {c.site_id for c in lensois.canteens if c.holiday_calendar}
    assert {c for c, day in demand.mornings if day == monday} == schools
    mondays = [d for d in demand.canteens if d.canteen_id in schools and monday in d.meal_days]
    assert mondays and all(d.delivery_day == monday for d in mondays)
    week = catalogue.with_morning_deadline(demand.mornings)
    deadline = lensois.settings["calendar"]["canteen_deadline"]
    for school in schools:
        assert week.sites[school].windows["mon"] == f"06:30-{deadline}"
        assert week.sites[school].windows["tue"] == catalogue.sites[school].windows["tue"]
    assert not compute_week_demand(W49, catalogue, lensois.menu_lines, []).mornings
