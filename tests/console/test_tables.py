"""A report's table as CSV (server/console/tables.py).

Contract: the text starts with a UTF-8 byte order mark (Excel in Japan then reads it as UTF-8),
lines end with CRLF, the first line holds the columns' names, numbers are written as numbers
(no exponent, no trailing .0), a missing value is an empty cell, and a text a spreadsheet would
run as a formula is prefixed with ' so it is only shown. Asking for a table the report lacks
says which tables it has.
"""

from __future__ import annotations

import pytest

from server.console.tables import TableError, csv_text, table_of


def test_csv_with_a_bom_crlf_and_numbers_as_numbers():
    table = {
        "columns": ["path", "views", "median_seconds_on_page", "share"],
        "rows": [
            ["/商品/シャツ", 1200, 48.5, 0.1],
            ["/cart, checkout", 3, None, 12800.0],
            ["/x", 10**12, float("nan"), True],
        ],
    }
    assert csv_text(table) == (
        "\ufeffpath,views,median_seconds_on_page,share\r\n"
        "/商品/シャツ,1200,48.5,0.1\r\n"
        '"/cart, checkout",3,,12800\r\n'
        "/x,1000000000000,,true\r\n"
    )


@pytest.mark.parametrize("text", ["=1+1", "+81-3-1234", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_is_shown_not_run(text):
    assert csv_text({"columns": ["referrer"], "rows": [[text]]}).splitlines()[1].strip('"').startswith("'")


def test_negative_numbers_stay_numbers():
    assert csv_text({"columns": ["uplift"], "rows": [[-0.25]]}) == "\ufeffuplift\r\n-0.25\r\n"


def test_an_unknown_table_names_the_tables_there_are():
    report = {"tables": {"daily": {"columns": ["day"], "rows": []}, "pages": {"columns": ["path"], "rows": []}}}
    assert table_of(report, "pages") == {"columns": ["path"], "rows": []}
    with pytest.raises(TableError, match="^no table 'hours' in this report; its tables are: daily, pages$"):
        table_of(report, "hours")
    with pytest.raises(TableError, match="^this report has no tables$"):
        table_of({}, "daily")
