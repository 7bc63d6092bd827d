"""Printable HTML pages: every document people read is a title, a few lines and tables.

One jinja2 template with autoescaping renders them all, so names coming from people's files
(farms, products, addresses) can never inject markup. The template lives here rather than in a
data file so that it ships with the code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from foodchain.documents.i18n import Language


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
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
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

_ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)
_ENVIRONMENT.tests["link"] = lambda value: isinstance(value, Link)
_COMPILED = _ENVIRONMENT.from_string(_TEMPLATE)


def file_stem(key: str) -> str:
    """A file name part from an id (ids are slugs; a record edited by hand may hold anything)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", key) or "_"


def render(page: Page, lang: Language) -> str:
    return _COMPILED.render(page=page, lang=lang.code)


def write_page(path: Path, page: Page, lang: Language) -> Path:
    path.write_text(render(page, lang), encoding="utf-8")
    return path
