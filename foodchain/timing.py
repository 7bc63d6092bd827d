"""The one timing of a trip, so that "can these goods make it today?" has one answer.

A site's window (``site_window``) says when it takes visits. A trip loads at the hub, drives
to its stops in order (waiting for a window to open, serving), drives back and unloads. The
allocation asks it before any vehicle is chosen (a same-day flow is kept only if a trip of
its own could bring the farm's goods to the hub before the destination's goods must leave);
routing asks it for each vehicle (``schedule.time_trip``, the hub deadlines of ``echelons``,
the reasons of ``diagnosis``). Times are minutes since midnight, durations minutes. This
module knows no problem class: it is the seam both sides share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol

WHOLE_DAY = (0.0, 24 * 60.0)


class HasWindows(Protocol):
    @property
    def windows(self) -> Mapping[str, str]: ...


def minutes_of(clock: str) -> float:
    """``07:30`` as minutes since midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60.0 + int(minutes)


def window_of(text: str) -> tuple[float, float]:
    """``07:00-09:30`` (already normalised by the models) as minutes since midnight."""
    opens, closes = text.split("-")
    return minutes_of(opens), minutes_of(closes)


def site_window(site: HasWindows, weekday: str) -> tuple[float, float]:
    """The site's window that weekday; a site without one takes visits all day."""
    text = site.windows.get(weekday)
    return window_of(text) if text else WHOLE_DAY


Call = tuple[float, float, float]
"""A stop as the timing sees it: (drive from the previous place, window opens, service)."""

Visit = tuple[float, float, float]
"""(arrival, start of service, departure) at a stop."""


def visit_times(departure: float, calls: Sequence[Call]) -> list[Visit]:
    """When a vehicle leaving the hub at ``departure`` arrives, serves and leaves each stop,
    at the earliest (waiting where a window is not open yet)."""
    times = []
    clock = departure
    for drive, opens, service in calls:
        arrival = clock + drive
        begin = max(arrival, opens)
        clock = begin + service
        times.append((arrival, begin, clock))
    return times


def goods_at_hub(
    *,
    opens: float,
    service: float,
    drive_back: float,
    unloading: float = 0.0,
    reach: float = -math.inf,
) -> float:
    """When a pickup's goods are unloaded at the hub at the earliest: on a trip of its own
    that reaches the farm at ``reach`` (or is there when the window ``opens``), serves it,
    drives back and unloads. A farm that brings its produce has no drive and no service."""
    return max(reach, opens) + service + drive_back + unloading


def latest_loading_start(*, closes: float, drive_out: float, loading: float) -> float:
    """The last moment a delivery's loading at the hub may begin for it to arrive before its
    window ``closes``, on a trip of its own."""
    return closes - drive_out - loading


def latest_service_start(
    *, deadline: float, service: float, drive_back: float, unloading: float = 0.0
) -> float:
    """The last moment a pickup's service may begin for its goods to be unloaded at the hub
    by ``deadline``, driving straight back (the inverse of ``goods_at_hub``)."""
    return deadline - service - drive_back - unloading


def can_feed(at_hub: float, leave_by: float) -> bool:
    """Whether goods at the hub at ``at_hub`` can still leave by ``leave_by`` the same day."""
    return at_hub <= leave_by
