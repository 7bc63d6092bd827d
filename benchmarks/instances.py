"""VRPTW benchmark instances: Solomon text and VRPLIB, parsed from strings, read from files.

Parsing never touches the disk (``parse_*`` take text), reading opens a file and hands its
text over. Both formats give a ``VrptwInstance`` whose node 0 is the depot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path


class InstanceError(ValueError):
    """A benchmark file that cannot be understood, with the line that broke it."""


@dataclass(frozen=True)
class VrptwInstance:
    name: str
    vehicles: int
    capacity: float
    ids: tuple[int, ...]
    """Node numbers as written in the file (depot first)."""
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[float, ...]
    ready: tuple[float, ...]
    due: tuple[float, ...]
    service: tuple[float, ...]
    distances: tuple[tuple[float, ...], ...] | None = None
    """Explicit distances when the file gives them; else Euclidean from x, y."""
    release: tuple[float, ...] | None = None
    """When each client's goods are at the depot (multi-trip with release dates)."""
    multi_trip: bool = False
    """Vehicles may come back to the depot to reload and leave again (MTVRPTWR)."""

    @property
    def customers(self) -> int:
        return len(self.ids) - 1

    def distance(self, a: int, b: int) -> float:
        if self.distances is not None:
            return self.distances[a][b]
        return math.hypot(self.x[a] - self.x[b], self.y[a] - self.y[b])


def parse_solomon(text: str, name: str | None = None) -> VrptwInstance:
    """Solomon text: a name line, VEHICLE (number, capacity), CUSTOMER rows."""
    lines = text.splitlines()
    nonblank = [(i + 1, line.strip()) for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        raise InstanceError("empty Solomon file")
    title = name or nonblank[0][1]
    vehicles = capacity = None
    rows: list[list[float]] = []
    state = "head"
    for number, line in nonblank[1:]:
        upper = line.upper()
        if upper.startswith("VEHICLE"):
            state = "vehicle"
            continue
        if upper.startswith("NUMBER"):
            continue
        if upper.startswith("CUSTOMER") or upper.startswith("CUST"):
            state = "customer"
            continue
        fields = line.split()
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise InstanceError(f"line {number}: expected numbers, got {line!r}") from None
        if state == "vehicle":
            if len(values) != 2:
                raise InstanceError(f"line {number}: expected 'number capacity', got {line!r}")
            vehicles, capacity = int(values[0]), values[1]
        elif state == "customer":
            if len(values) != 7:
                raise InstanceError(
                    f"line {number}: a customer row has 7 numbers "
                    f"(no, x, y, demand, ready, due, service), got {len(values)}"
                )
            rows.append(values)
        else:
            raise InstanceError(f"line {number}: unexpected {line!r} before VEHICLE")
    if vehicles is None or capacity is None:
        raise InstanceError("no VEHICLE section (number of vehicles and capacity)")
    if len(rows) < 2:
        raise InstanceError("a Solomon instance needs the depot and at least one customer")
    return VrptwInstance(
        name=title,
        vehicles=vehicles,
        capacity=capacity,
        ids=tuple(int(r[0]) for r in rows),
        x=tuple(r[1] for r in rows),
        y=tuple(r[2] for r in rows),
        demand=tuple(r[3] for r in rows),
        ready=tuple(r[4] for r in rows),
        due=tuple(r[5] for r in rows),
        service=tuple(r[6] for r in rows),
    )


_SECTIONS = {
    "NODE_COORD_SECTION",
    "DEMAND_SECTION",
    "TIME_WINDOW_SECTION",
    "SERVICE_TIME_SECTION",
    "DEPOT_SECTION",
    "EDGE_WEIGHT_SECTION",
    "RELEASE_TIME_SECTION",
    "VEHICLES_RELOAD_DEPOT_SECTION",
}


def parse_vrplib(text: str) -> VrptwInstance:
    """VRPLIB (``KEY : value`` specifications, then sections indexed by node number)."""
    specs: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line == "EOF":
            continue
        head = line.split()[0].rstrip(":").upper()
        if head in _SECTIONS:
            current = head
            sections[current] = []
            continue
        if ":" in line and current is None:
            key, value = line.split(":", 1)
            specs[key.strip().upper()] = value.strip()
            continue
        if current is None:
            raise InstanceError(f"line {number}: {line!r} is neither 'KEY : value' nor a section")
        sections[current].append(line.split())
    try:
        dimension = int(specs["DIMENSION"])
        capacity = float(specs["CAPACITY"])
    except (KeyError, ValueError) as error:
        raise InstanceError(f"missing or bad specification: {error}") from None
    for needed in ("DEMAND_SECTION", "TIME_WINDOW_SECTION"):
        if needed not in sections:
            raise InstanceError(f"no {needed}: this is not a VRPTW instance")

    def column(section: str, width: int, default: float = 0.0) -> dict[int, list[float]]:
        out: dict[int, list[float]] = {}
        for row in sections.get(section, []):
            if len(row) != width + 1:
                raise InstanceError(f"{section}: expected {width + 1} values in {row}")
            try:
                out[int(row[0])] = [float(v) for v in row[1:]]
            except ValueError:
                raise InstanceError(f"{section}: expected numbers in {row}") from None
        return out

    coords = column("NODE_COORD_SECTION", 2)
    demand = column("DEMAND_SECTION", 1)
    windows = column("TIME_WINDOW_SECTION", 2)
    service = column("SERVICE_TIME_SECTION", 1)
    depots = [int(r[0]) for r in sections.get("DEPOT_SECTION", [["1"]]) if int(r[0]) > 0]
    ids = sorted(demand)
    if len(ids) != dimension:
        raise InstanceError(f"DIMENSION is {dimension} but DEMAND_SECTION has {len(ids)} nodes")
    depot = depots[0] if depots else ids[0]
    ordered = [depot] + [i for i in ids if i != depot]
    distances = None
    if "EDGE_WEIGHT_SECTION" in sections:
        flat = [float(v) for row in sections["EDGE_WEIGHT_SECTION"] for v in row]
        if len(flat) != dimension * dimension:
            raise InstanceError("EDGE_WEIGHT_SECTION: only FULL_MATRIX is supported")
        position = {node: k for k, node in enumerate(ids)}
        distances = tuple(
            tuple(flat[position[a] * dimension + position[b]] for b in ordered) for a in ordered
        )
    elif not coords:
        raise InstanceError("no NODE_COORD_SECTION and no EDGE_WEIGHT_SECTION")
    missing = [i for i in ordered if i not in windows]
    if missing:
        raise InstanceError(f"TIME_WINDOW_SECTION lacks nodes {missing[:5]}")
    vehicles = int(specs.get("VEHICLES", str(dimension - 1)))
    if "SERVICE_TIME" in specs and not service:
        uniform = float(specs["SERVICE_TIME"])
        service = {i: [0.0 if i == depot else uniform] for i in ordered}
    if "RELEASE_TIME_SECTION" in sections:
        return _dimacs(
            specs,
            ordered,
            coords,
            demand,
            windows,
            service,
            vehicles,
            capacity,
            column("RELEASE_TIME_SECTION", 1),
        )
    return VrptwInstance(
        name=specs.get("NAME", "vrplib"),
        vehicles=vehicles,
        capacity=capacity,
        ids=tuple(ordered),
        x=tuple(coords.get(i, [0.0, 0.0])[0] for i in ordered),
        y=tuple(coords.get(i, [0.0, 0.0])[1] for i in ordered),
        demand=tuple(demand[i][0] for i in ordered),
        ready=tuple(windows[i][0] for i in ordered),
        due=tuple(windows[i][1] for i in ordered),
        service=tuple(service.get(i, [0.0])[0] for i in ordered),
        distances=distances,
    )


def _dimacs(
    specs: dict[str, str],
    ordered: list[int],
    coords: dict[int, list[float]],
    demand: dict[int, list[float]],
    windows: dict[int, list[float]],
    service: dict[int, list[float]],
    vehicles: int,
    capacity: float,
    release: dict[int, list[float]],
) -> VrptwInstance:
    """MTVRPTWR under the DIMACS convention of its solutions: distances and travel times
    floor(10 × Euclidean), every time of the file × 10; vehicles reload at the depot."""

    def far(a: int, b: int) -> float:
        (xa, ya), (xb, yb) = coords[a], coords[b]
        return float(math.floor(10 * math.hypot(xa - xb, ya - yb)))

    return VrptwInstance(
        name=specs.get("NAME", "vrplib"),
        vehicles=vehicles,
        capacity=capacity,
        ids=tuple(ordered),
        x=tuple(coords[i][0] for i in ordered),
        y=tuple(coords[i][1] for i in ordered),
        demand=tuple(demand[i][0] for i in ordered),
        ready=tuple(10 * windows[i][0] for i in ordered),
        due=tuple(10 * windows[i][1] for i in ordered),
        service=tuple(10 * service.get(i, [0.0])[0] for i in ordered),
        distances=tuple(tuple(far(a, b) for b in ordered) for a in ordered),
        release=tuple(10 * release.get(i, [0.0])[0] for i in ordered),
        multi_trip=True,
    )


def read_solution_cost(path: Path) -> float | None:
    """The ``Cost`` line of a VRPLIB ``.sol`` file, if there is one."""
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lower().startswith("cost"):
            return float(line.split()[-1])
    return None


def looks_like_vrplib(text: str) -> bool:
    return any(
        line.strip().upper().startswith("NAME") and ":" in line for line in text[:2000].splitlines()
    )


def read_instance(path: Path) -> VrptwInstance:
    """A Solomon or VRPLIB file, told apart by its first lines."""
    text = path.read_text(encoding="utf-8-sig")
    if looks_like_vrplib(text):
        return parse_vrplib(text)
    return parse_solomon(text)
