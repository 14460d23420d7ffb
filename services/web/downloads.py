"""Every CSV the service writes, in one place: the console's downloads and the API's exports.

A spreadsheet program runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or with a
tab or carriage return before one) as a formula, so text a volunteer typed could run in the
coordinator's spreadsheet. Following OWASP's CSV injection guidance, such a text cell is
written with a leading single quote, which spreadsheets show as text. Numbers the service
itself writes (minutes, counts, positions) stay numbers: only text is neutralised."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """What a spreadsheet will take as the value itself, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(name: str, header: list[str], rows: list[list[Any]]) -> Response[str]:
    """A CSV download; the byte-order mark makes spreadsheet programs read it as UTF-8.
    Litestar adds the charset to a text media type itself."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
