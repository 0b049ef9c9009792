"""Rows of named columns written as CSV or XLSX, the two forms of a sortable spreadsheet.

CSV is UTF-8 with a byte-order mark (so spreadsheet programs read non-ASCII names right) and
RFC 4180 line ends; instants are ISO 8601 in UTC. XLSX (openpyxl) has a bold, frozen header row
with an autofilter over every column, so it sorts and filters as opened; instants are real
date-times in UTC, and a second sheet says what the spreadsheet covers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Columns = Sequence[tuple[str, str]]
_WIDEST = 60


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def write_csv(columns: Columns, rows: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header for _, header in columns)
    for row in rows:
        writer.writerow(_text(row.get(key)) for key, _ in columns)
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(
    columns: Columns,
    rows: Sequence[dict[str, Any]],
    *,
    title: str,
    about: Sequence[tuple[str, Any]] = (),
) -> bytes:
    """One sheet `title` of the rows; an "About" sheet of (label, value) pairs."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # Excel's limit on sheet names
    sheet.append([header for _, header in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(header) for _, header in columns]
    for row in rows:
        values = []
        for i, (key, _) in enumerate(columns):
            value = row.get(key)
            if isinstance(value, datetime):  # Excel keeps no offset: UTC, said in the header
                value = value.replace(tzinfo=None)
            values.append(value)
            widths[i] = max(widths[i], len(_text(value)))
        sheet.append(values)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, _WIDEST)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    if about:
        notes = book.create_sheet("About")
        for label, value in about:
            notes.append([label, _text(value)])
        notes.column_dimensions["A"].width = 24
        notes.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
