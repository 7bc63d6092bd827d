"""Printable HTML pages: every document people read is a title, a few lines and tables.

One jinja2 template with autoescaping renders them all, so names coming from people's files
(farms, products, addresses) can never inject markup. The template lives here rather than in a
data file so that it ships with the code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from foodchain.documents.i18n import Language

STAMP_STATUSES = ("draft", "published", "superseded")


@dataclass(frozen=True)
class RunStamp:
    """Which run a set of documents comes from, and whether it is the week's plan: every page
    says it ("BROUILLON - run 3 · planifié le 01/12/2026 à 14:05"), so a printed or e-mailed
    draft is never taken for the published plan."""

    run_id: int
    status: str
    """draft, published or superseded (``foodchain.models.RunStatus`` values)."""
    at: dt.datetime
    """When the run was planned (a draft) or published (UTC or aware; shown in local time)."""

    def __post_init__(self) -> None:
        if self.status not in STAMP_STATUSES:
            raise ValueError(f"unknown run status {self.status!r}")

    def text(self, t: Language) -> str:
        when = self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=dt.UTC)
        return t(f"stamp_{self.status}", run=self.run_id, at=t.moment(when.astimezone()))


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    """Relative to the page."""


Cell = str | Link | Sequence[str | Link]
"""A sequence is shown one text per line, links side by side."""


@dataclass(frozen=True)
class Section:
    title: str
    header: Sequence[str] = ()
    rows: Sequence[Sequence[Cell]] = ()
    notes: Sequence[str] = ()
    footer: Sequence[Cell] = ()
    numeric: frozenset[int] = frozenset()
    """Column indexes aligned right."""


@dataclass(frozen=True)
class Written:
    """The files of one document, as the index lists them."""

    section: str
    """Index section (a word key of :mod:`foodchain.documents.i18n`)."""
    label: str
    paths: Sequence[Path]


@dataclass(frozen=True)
class Page:
    title: str
    lines: Sequence[str] = ()
    sections: Sequence[Section] = ()
    footer: str = ""
    wide: bool = False
    """Landscape print (route sheets)."""
    stamp: RunStamp | None = None
    """The run and its status: at the top of the page and in the top margin of every printed
    sheet (None: documents written outside a run, e.g. by tests)."""
    style: str = ""
    """CSS of this kind of document, after the shared rules: a constant of its module, never
    text from people's files (it is not escaped)."""


_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page.title }}</title>
<style>
@page { size: A4{% if page.wide %} landscape{% endif %}; margin: 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #111;
       margin: 1.5em auto; max-width: {% if page.wide %}1200px{% else %}900px{% endif %}; }
h1 { font-size: 16pt; margin-bottom: .3em; }
h2 { font-size: 13pt; margin: 1.2em 0 .4em; border-bottom: 1px solid #999; }
p { margin: .2em 0; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num, th.num { text-align: right; white-space: nowrap; }
tfoot td { font-weight: bold; background: #f6f6f6; }
tr { break-inside: avoid; }
footer { margin-top: 2em; font-size: 9pt; color: #555; }
.stamp { display: inline-block; margin: 0 0 .4em; padding: 2px 8px; border: 2px solid #b00;
         color: #b00; font-weight: bold; font-size: 10pt; letter-spacing: .02em; }
.stamp.published { border-color: #060; color: #060; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
{%- if stamp %}
@page { @top-right { content: {{ stamp | css_string }}; font: 8pt sans-serif; } }
{%- endif %}
{%- if page.footer %}
@page { @bottom-left { content: {{ page.footer | css_string }}; font: 8pt sans-serif; } }
@media print { footer { display: none; } }
{%- endif %}
{{ page.style|safe }}
</style>
</head>
<body>
{%- macro cell(value) -%}
{%- if value is link -%}<a href="{{ value.href }}">{{ value.text }}</a>
{%- elif value is string -%}{{ value }}
{%- else -%}
{%- for item in value -%}
{{ cell(item) }}{% if not loop.last %}{% if item is link %} · {% else %}<br>{% endif %}{% endif %}
{%- endfor -%}
{%- endif -%}
{%- endmacro %}
{%- macro row(tag, values, numeric) -%}
<tr>
{%- for value in values -%}
<{{ tag }}{% if loop.index0 in numeric %} class="num"{% endif %}>{{ cell(value) }}</{{ tag }}>
{%- endfor -%}
</tr>
{%- endmacro %}
{% if stamp %}<p class="stamp {{ page.stamp.status }}">{{ stamp }}</p>
{% endif -%}
<h1>{{ page.title }}</h1>
{% for line in page.lines %}<p>{{ line }}</p>
{% endfor %}
{%- for section in page.sections %}
<section>
<h2>{{ section.title }}</h2>
{% for note in section.notes %}<p>{{ note }}</p>
{% endfor %}
{%- if section.header %}
<table>
<thead>{{ row("th", section.header, section.numeric) }}</thead>
<tbody>
{% for values in section.rows %}{{ row("td", values, section.numeric) }}
{% endfor %}</tbody>
{%- if section.footer %}
<tfoot>{{ row("td", section.footer, section.numeric) }}</tfoot>
{%- endif %}
</table>
{%- endif %}
</section>
{%- endfor %}
<footer>{{ page.footer }}</footer>
</body>
</html>
"""


def css_string(text: str) -> Markup:
    """A quoted CSS string holding text as is: every character but letters, digits and spaces
    written as a CSS escape, so nothing in it can end the string or the style element. Each
    escape ends with a space, which CSS takes as the escape's end: a space after it in the
    text stays (without it, "W49, scénario" printed as "W49,scénario")."""
    escaped = "".join(
        char if char.isascii() and (char.isalnum() or char == " ") else f"\\{ord(char):06x} "
        for char in text
    )
    return Markup(f'"{escaped}"')


_ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)
_ENVIRONMENT.tests["link"] = lambda value: isinstance(value, Link)
_ENVIRONMENT.filters["css_string"] = css_string
_COMPILED = _ENVIRONMENT.from_string(_TEMPLATE)


def file_stem(key: str) -> str:
    """A file name part from an id (ids are slugs; a record edited by hand may hold anything)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", key) or "_"


def render(page: Page, lang: Language) -> str:
    stamp = page.stamp.text(lang) if page.stamp else ""
    return _COMPILED.render(page=page, lang=lang.code, stamp=stamp)


def write_page(path: Path, page: Page, lang: Language) -> Path:
    path.write_text(render(page, lang), encoding="utf-8")
    return path
