"""The rounds on a map: routes.geojson for GIS tools, map.html (Leaflet) for people.

map.html is one self-contained file: Leaflet's script and stylesheet (1.9.4, shipped in
``static/leaflet`` with its licence) are written into the page, so the rounds and stops show
without a network, from a USB key or an e-mail attachment; only the background tiles need one,
and the page says so. Each day is a layer, fitted to its rounds when chosen; the page opens on
the first day. The page is written from the record alone, byte for byte the same each time.

Lines join the sites in visiting order as the crow flies: the record keeps no road geometry.
Every text put into the map's popups and tooltips is HTML-escaped (Leaflet shows them as HTML),
including the characters that would end or interpolate a JavaScript template string, and the
plan's data sits in a JSON script block that no text can close.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from foodchain.allocation.export import kg
from foodchain.documents.view import PlanView
from foodchain.plan.record import StopRow
from foodchain.weeks import clock

COLOURS = (
    *("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"),
    *("#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39"),
)


def _position(view: PlanView, site_id: str) -> tuple[float, float] | None:
    """(lon, lat) of a site, None if the record does not know it."""
    site = view.record.sites.get(site_id)
    return (site.lon, site.lat) if site else None


def _trip_positions(view: PlanView, rows: list[StopRow]) -> list[tuple[float, float]]:
    return [p for p in (_position(view, r.site_id) for r in rows) if p is not None]


def geojson(view: PlanView) -> dict[str, Any]:
    """A FeatureCollection (RFC 7946): a LineString per trip, a Point per visit."""
    features: list[dict[str, Any]] = []
    for (day, vehicle_id, trip), rows in view.trips.items():
        common = {
            "vehicle_id": vehicle_id,
            "vehicle_type": view.vehicle_type(vehicle_id),
            "day": day.isoformat(),
            "trip": trip,
        }
        positions = _trip_positions(view, rows)
        if len(positions) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [list(p) for p in positions]},
                    "properties": {
                        "kind": "trip",
                        **common,
                        "departure": clock(rows[0].departure),
                        "back": clock(rows[-1].arrival),
                        "km": kg(sum(r.km for r in rows)),
                        "stops": len(rows) - 2,
                    },
                }
            )
        for row in rows[1:-1]:
            position = _position(view, row.site_id)
            if position is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(position)},
                    "properties": {
                        "kind": "visit",
                        **common,
                        "seq": row.seq,
                        "site_id": row.site_id,
                        "site_name": view.name(row.site_id),
                        "action": row.action,
                        "arrival": clock(row.arrival),
                        "pickup_kg": kg(row.pickup_kg),
                        "delivery_kg": kg(row.delivery_kg),
                        "load_kg": kg(row.load_kg),
                        "part": row.part,
                        "parts": row.parts,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def write_geojson(view: PlanView, path: Path) -> Path:
    path.write_text(json.dumps(geojson(view), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def escape(text: str) -> str:
    """HTML-escape, and neutralise what would break out of a JavaScript template string."""
    return html.escape(text).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _popup(view: PlanView, row: StopRow) -> str:
    t = view.t
    lines = [f"<b>{escape(view.name(row.site_id))}</b>"]
    if view.address(row.site_id):
        lines.append(escape(view.address(row.site_id)))
    action = t.optional("action", row.action)
    lines.append(
        escape(t("map_visit", vehicle=row.vehicle_id, trip=row.trip, seq=row.seq, action=action))
    )
    lines.append(escape(t("map_arrival", time=clock(row.arrival), window=view.window(row))))
    lines.append(escape(view.stop_words(row)))
    lines.extend(escape(line.text(t)) for line in view.stop_lines(row))
    return "<br>".join(lines)


TILES = {
    "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
}
"""The background map: the one part of map.html that needs a network."""


@cache
def _leaflet() -> tuple[str, str]:
    """Leaflet's script and stylesheet, as shipped. The stylesheet's images (the folded layer
    control's icon, the default marker) are not used by the map: left out, so that the page
    asks for no file at all."""
    folder = files("foodchain.documents") / "static" / "leaflet"
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    style = (folder / "leaflet.css").read_text(encoding="utf-8")
    return script, re.sub(r"url\(images/[^)]*\)", "none", style)


def _bounds(points: list[list[float]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of [lat, lon] points (None without points)."""
    if not points:
        return None
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _colours(view: PlanView) -> dict[str, str]:
    """A colour per vehicle, in the order of their ids."""
    return {
        vehicle_id: COLOURS[i % len(COLOURS)]
        for i, vehicle_id in enumerate(sorted({key[1] for key in view.trips}))
    }


def map_data(view: PlanView) -> dict[str, Any]:
    """What map.html draws, every text escaped: the days in order, each with its trips (a line
    each) and stops (a circle each, with a popup), the hub, the vehicles' colours."""
    t, record = view.t, view.record
    colours = _colours(view)
    days: dict[Any, dict[str, Any]] = {}
    for (day, vehicle_id, trip), rows in view.trips.items():
        entry = days.setdefault(
            day, {"day": day.isoformat(), "label": escape(t.day(day)), "trips": [], "stops": []}
        )
        colour = colours[vehicle_id]
        km = t.number(sum(r.km for r in rows), 1)
        entry["trips"].append(
            {
                "vehicle": escape(vehicle_id),
                "trip": trip,
                "colour": colour,
                "label": escape(t("map_trip", vehicle=vehicle_id, trip=trip, km=km)),
                "path": [[lat, lon] for lon, lat in _trip_positions(view, rows)],
            }
        )
        for row in rows[1:-1]:
            site = record.sites.get(row.site_id)
            if site is None:
                continue
            entry["stops"].append(
                {
                    "site": escape(row.site_id),
                    "vehicle": escape(vehicle_id),
                    "trip": trip,
                    "seq": row.seq,
                    "colour": colour,
                    "at": [site.lat, site.lon],
                    "label": escape(
                        t("map_stop", seq=row.seq, name=site.name, time=clock(row.arrival))
                    ),
                    "popup": _popup(view, row),
                }
            )
    for entry in days.values():
        points = [p for trip in entry["trips"] for p in trip["path"]]
        entry["bounds"] = _bounds(points + [stop["at"] for stop in entry["stops"]])
    sites = list(record.sites.values())
    hub = record.sites.get(record.hub_id)
    return {
        "days": [days[day] for day in sorted(days)],
        "hub": {"at": [hub.lat, hub.lon], "label": escape(t("map_hub", name=hub.name))}
        if hub is not None
        else None,
        "bounds": _bounds([[s.lat, s.lon] for s in sites]),
        "tiles": TILES,
    }


def _json_script(data: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block: no ``<`` in it, so no text can
    close the block or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e"))


def _legend(view: PlanView) -> list[tuple[str, str]]:
    """(colour, words) per vehicle; the template escapes the words."""
    return [
        (colour, view.t("map_vehicle", id=vehicle_id, name=view.name(vehicle_id)))
        for vehicle_id, colour in _colours(view).items()
    ]


_MAP_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
{{ leaflet_css }}
</style>
<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 13px "DejaVu Sans", Arial, sans-serif; }
header { padding: 6px 10px; border-bottom: 1px solid #999; }
header h1 { font-size: 15px; margin: 0 0 2px; display: inline; }
.stamp { display: inline-block; margin-right: 8px; padding: 1px 6px; border: 2px solid #b00;
         color: #b00; font-weight: bold; }
.stamp.published { border-color: #060; color: #060; }
.offline { margin: 2px 0 0; color: #444; }
#map { flex: 1; min-height: 300px; }
.legend { background: white; padding: 6px 8px; border: 1px solid #999; line-height: 1.5; }
.legend span { display: inline-block; width: 12px; height: 12px; margin-right: 4px; }
.hub-icon { background: #111; color: white; border-radius: 3px; text-align: center;
            font: bold 13px/18px sans-serif; }
</style>
</head>
<body>
<header>
{% if stamp %}<span class="stamp {{ status }}">{{ stamp }}</span>{% endif -%}
<h1>{{ title }}</h1>
<p class="offline">{{ offline }}</p>
</header>
<div id="map"></div>
<div id="legend" class="legend"><b>{{ legend_title }}</b>
{%- for colour, text in legend %}<br><span style="background:{{ colour }}"></span>{{ text }}
{%- endfor %}</div>
<script type="application/json" id="plan-data">{{ data }}</script>
<script>
{{ leaflet_js }}
</script>
<script>
(function () {
  "use strict";
  var plan = JSON.parse(document.getElementById("plan-data").textContent);
  var map = L.map("map");
  L.control.scale().addTo(map);
  L.tileLayer(plan.tiles.url, {attribution: plan.tiles.attribution, maxZoom: 19}).addTo(map);
  var fit = {maxZoom: 15, padding: [20, 20]};
  var choices = {}, bounds = {}, first = null;
  plan.days.forEach(function (day) {
    var group = L.featureGroup();
    day.trips.forEach(function (trip) {
      L.polyline(trip.path, {color: trip.colour, weight: 4, opacity: 0.8})
        .bindTooltip(trip.label).addTo(group);
    });
    day.stops.forEach(function (stop) {
      L.circleMarker(stop.at, {radius: 7, color: stop.colour, fillOpacity: 0.9})
        .bindTooltip(stop.label).bindPopup(stop.popup, {maxWidth: 320}).addTo(group);
    });
    choices[day.label] = group;
    bounds[L.stamp(group)] = day.bounds;
    if (first === null) { first = group; }
  });
  if (plan.hub) {
    var icon = L.divIcon({className: "hub-icon", html: "H", iconSize: [18, 18]});
    L.marker(plan.hub.at, {icon: icon, zIndexOffset: 1000}).bindTooltip(plan.hub.label).addTo(map);
  }
  function show(group) {
    var box = bounds[L.stamp(group)];
    if (box) { map.fitBounds(box, fit); }
  }
  if (first !== null) {
    first.addTo(map);
    show(first);
    L.control.layers(choices, null, {collapsed: false}).addTo(map);
    map.on("baselayerchange", function (event) { show(event.layer); });
  } else if (plan.bounds) {
    map.fitBounds(plan.bounds, fit);
  } else {
    map.setView([50.43, 2.8], 10);
  }
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () { return document.getElementById("legend"); };
  legend.addTo(map);
}());
</script>
</body>
</html>
"""

_COMPILED = Environment(autoescape=True, keep_trailing_newline=True).from_string(_MAP_TEMPLATE)


def render_map(view: PlanView) -> str:
    t, record = view.t, view.record
    script, style = _leaflet()
    return _COMPILED.render(
        lang=t.code,
        title=t("title_map", week=record.week),
        stamp=view.stamp.text(t) if view.stamp else "",
        status=view.stamp.status if view.stamp else "",
        offline=t("map_offline"),
        legend_title=t("map_legend"),
        legend=_legend(view),
        data=_json_script(map_data(view)),
        leaflet_js=Markup(script),
        leaflet_css=Markup(style),
    )


def write_map(view: PlanView, path: Path) -> Path:
    """The week's rounds on a Leaflet map that works offline: a layer per day, a colour per
    vehicle."""
    path.write_text(render_map(view), encoding="utf-8")
    return path
