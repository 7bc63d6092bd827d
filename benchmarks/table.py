"""How every benchmark prints its rows: a Markdown table, as pasted into benchmarks/README.md."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Columns of the first row, one line per row."""
    columns = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def publish(rows: Sequence[Mapping[str, Any]], json_path: Path | None) -> None:
    """Print the table; write the rows as JSON too when asked."""
    print(markdown(rows))
    if json_path is not None:
        json_path.write_text(json.dumps(list(rows), indent=2))
