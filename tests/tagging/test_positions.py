"""The position feed (every validation error by file, row and column), the store (atomic, idempotent,
de-duplicated, pruned by day) and retention (purge keeps what it must)."""

from __future__ import annotations

import os

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from vru.errors import SourceError
from vru.geography.grids import to_bng
from vru.tagging import positions as P
from vru.tagging import schema as S
from vru.tagging import store
from vru.tagging.cli import tagging

NOW = "2024-03-10T00:00:00Z"
HEADER = "device_id,fix_time,lat,lon,precision_m,speed_kmh,heading_deg,mechanism,received_time"
GOOD = [
    "D1,2024-03-04T10:00:00Z,51.5007,-0.1246,5.0,4.2,90,GPS,2024-03-04T10:00:20Z",
    "D1,2024-03-04T11:01:00+01:00,51.5010,-0.1240,7.5,,,gps,2024-03-04T10:01:30Z",
    "D2,2024-03-05T23:59:00Z,51.4500,-0.0500,850,0,0,LBS,2024-03-06T00:00:10Z",
    "D2,2024-03-06T00:01:00Z,51.4501,-0.0501,12,3,359.5,5,2024-03-06T00:01:10Z",
]
ACTIVATIONS = (
    "device_id,wearer_ref,active_from,active_to\n"
    "D1,W1,2024-03-01T00:00:00Z,2024-03-08T00:00:00Z\n"
    "D2,W2,2024-03-01T00:00:00Z,\n"
)


def _csv(tmp_path, lines, name="feed.csv", header=HEADER):
    p = tmp_path / name
    p.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return p


@pytest.fixture
def act(tmp_path):
    p = tmp_path / "activations.csv"
    p.write_text(ACTIVATIONS)
    return p


def _ts(s):
    return pd.Timestamp(s).tz_convert("UTC")


# --------------------------------------------------------------------------- the documented format


def test_valid_feed_is_read_converted_and_normalised(tmp_path, act):
    t = P.read_feed(_csv(tmp_path, GOOD), act, now=NOW)
    assert t.schema == S.POSITIONS
    df = t.to_pandas()
    # the offset +01:00 is converted to UTC
    assert df[S.FIX_TIME][1] == _ts("2024-03-04T10:01:00Z")
    # mechanism any case, and the MoJ code 5 = LBS
    assert df[S.MECHANISM].tolist() == ["GPS", "GPS", "LBS", "LBS"]
    # empty speed/heading are null
    assert np.isnan(df[S.SPEED_KMH][1]) and np.isnan(df[S.HEADING_DEG][1])
    x, y = to_bng(df[S.LON].to_numpy(), df[S.LAT].to_numpy())
    assert np.allclose(df[S.EASTING], x) and np.allclose(df[S.NORTHING], y)
    # Westminster Bridge area: BNG about (530 300, 179 600)
    assert abs(df[S.EASTING][0] - 530_280) < 150 and abs(df[S.NORTHING][0] - 179_630) < 150


def test_parquet_feed_typed_columns(tmp_path, act):
    df = P.read_feed(_csv(tmp_path, GOOD), act, now=NOW).to_pandas()
    p = tmp_path / "feed.parquet"
    pq.write_table(pa.Table.from_pandas(df[list(S.FEED.names)], preserve_index=False), p)
    back = P.read_feed(p, act, now=NOW).to_pandas()
    pd.testing.assert_frame_equal(back, df)



def test_parquet_text_columns_are_checked_per_distinct_value(tmp_path, act):
    """Device ids and mechanisms are read dictionary-encoded (each distinct value checked once): padding
    is trimmed and codes mapped as for text, and a blank id is reported on its own record."""
    df = P.read_feed(_csv(tmp_path, GOOD), act, now=NOW).to_pandas()[list(S.FEED.names)]
    padded = df.copy()
    padded[S.DEVICE_ID] = [" D1", "D1 ", "D2", " D2 "]
    padded[S.MECHANISM] = ["gps", " GPS", "5", "lbs"]
    p = tmp_path / "padded.parquet"
    pq.write_table(pa.Table.from_pandas(padded, preserve_index=False), p)
    back = P.read_feed(p, act, now=NOW)
    assert back.schema == S.POSITIONS
    assert back[S.DEVICE_ID].to_pylist() == ["D1", "D1", "D2", "D2"]
    assert back[S.MECHANISM].to_pylist() == ["GPS", "GPS", "LBS", "LBS"]
    padded.loc[2, S.DEVICE_ID] = "   "
    padded.loc[3, S.MECHANISM] = "SAT"
    pq.write_table(pa.Table.from_pandas(padded, preserve_index=False), p)
    with pytest.raises(P.FeedError) as e:
        P.read_feed(p, act, now=NOW)
    assert [(x.row, x.column) for x in e.value.errors] == [(3, S.DEVICE_ID), (4, S.MECHANISM)], str(e.value)
    assert "empty" in e.value.errors[0].reason and "'SAT'" in e.value.errors[1].reason

def test_parquet_naive_timestamps_refused_with_record_number(tmp_path, act):
    df = P.read_feed(_csv(tmp_path, GOOD), act, now=NOW).to_pandas()[list(S.FEED.names)]
    df[S.FIX_TIME] = df[S.FIX_TIME].dt.tz_localize(None)
    p = tmp_path / "naive.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), p)
    with pytest.raises(P.FeedError) as e:
        P.read_feed(p, act, now=NOW)
    first = e.value.errors[0]
    assert (first.row, first.column) == (1, S.FIX_TIME)  # Parquet: record 1 is the first
    assert "without a time zone" in first.reason


def test_utf8_bom_is_accepted(tmp_path, act):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + ("\n".join([HEADER, *GOOD]) + "\n").encode())
    assert P.read_feed(p, act, now=NOW).num_rows == 4


# --------------------------------------------------------------------------- every validation error

BASE = "D1,2024-03-04T10:00:00Z,51.5007,-0.1246,5.0,4.2,90,GPS,2024-03-04T10:00:20Z"
FIELDS = HEADER.split(",")


def _row(**change):
    vals = dict(zip(FIELDS, BASE.split(","), strict=True))
    vals.update(change)
    return ",".join(vals[c] for c in FIELDS)


BAD = [
    # (change to the row, column named, words in the message)
    (dict(lat="40.7"), "lat", "latitude 40.7 is outside the United Kingdom"),
    (dict(lon="-74.0"), "lon", "longitude -74.0 is outside the United Kingdom"),
    (dict(lat="-0.1246", lon="51.5007"), "lat", "look swapped"),
    (dict(lat="north"), "lat", "'north' is not a number"),
    (dict(lat="nan"), "lat", "not a finite number"),
    (dict(lat=""), "lat", "empty"),
    (dict(lon="inf"), "lon", "not a finite number"),
    (dict(fix_time="2024-03-04T10:00:00"), "fix_time", "has no time zone"),
    (dict(fix_time="04/03/2024 10:00"), "fix_time", "is not an ISO 8601 time"),
    (dict(fix_time="2024-02-30T10:00:00Z"), "fix_time", "is not a valid date"),
    (dict(fix_time=""), "fix_time", "empty"),
    (dict(device_id="D2", fix_time="2024-03-11T10:00:00Z", received_time="2024-03-11T10:00:10Z"),
     "fix_time", "in the future"),
    (dict(received_time="2024-03-12T00:00:00Z"), "received_time", "in the future"),
    (dict(received_time="2024-03-04T09:50:00Z"), "received_time", "before the fix was taken"),
    (dict(received_time="2024-03-04 10:00:20"), "received_time", "has no time zone"),
    (dict(device_id="D9"), "device_id", "unknown device 'D9'"),
    (dict(device_id=""), "device_id", "empty"),
    (dict(fix_time="2024-02-29T23:59:00Z", received_time="2024-03-01T00:00:10Z"), "fix_time",
     "outside every activation of device 'D1'"),
    (dict(fix_time="2024-03-08T00:00:00Z", received_time="2024-03-08T00:00:10Z"), "fix_time",
     "outside every activation"),  # active_to is exclusive
    (dict(mechanism="SAT"), "mechanism", "mechanism 'SAT' is not one of GPS, RF, LBS, WIFI"),
    (dict(mechanism="2"), "mechanism", "is not one of"),
    (dict(mechanism=""), "mechanism", "empty"),
    (dict(precision_m="-3"), "precision_m", "precision -3.0 m is negative"),
    (dict(precision_m=""), "precision_m", "empty"),
    (dict(precision_m="5m"), "precision_m", "'5m' is not a number"),
    (dict(speed_kmh="-1"), "speed_kmh", "negative"),
    # the MatchPoint table's bounds (one constant): refused here, never failing a matching run later
    (dict(precision_m="150000"), "precision_m", "precision 150000.0 m is over 100,000 m"),
    (dict(speed_kmh="1500"), "speed_kmh", "speed 1500.0 km/h is over 1,000 km/h"),
    (dict(heading_deg="360"), "heading_deg", "not in 0 to 360"),
    (dict(heading_deg="-5"), "heading_deg", "not in 0 to 360"),
]


@pytest.mark.parametrize(("change", "column", "words"), BAD, ids=[f"{c}:{w}" for _, c, w in BAD])
def test_each_bad_value_names_file_row_and_column(tmp_path, act, change, column, words):
    path = _csv(tmp_path, [BASE.replace("10:00:00Z", "09:00:00Z").replace("10:00:20Z", "09:00:20Z"),
                           _row(**change)])
    root = tmp_path / "store"
    with pytest.raises(P.FeedError) as e:
        P.import_positions(path, act, root, now=NOW)
    err = e.value
    assert {x.row for x in err.errors} == {3}, str(err)  # the header is line 1, the good row line 2
    hits = [x for x in err.errors if x.column == column and words in x.reason]
    assert len(hits) == 1, str(err)
    assert hits[0].path == str(path)
    if "future" not in words:
        assert err.total == 1, str(err)  # one fault, one error
    assert "nothing was imported" in str(err)
    assert f"row 3, column '{column}'" in str(err)
    assert not root.exists() or store.list_days(root) == []


def test_all_errors_are_collected_and_the_first_n_listed(tmp_path, act):
    rows = [_row(lat="40") for _ in range(30)]
    rows[3] = _row(precision_m="-1", mechanism="X")  # two errors on one line, in column order
    with pytest.raises(P.FeedError) as e:
        P.read_feed(_csv(tmp_path, rows), act, now=NOW, max_errors=5)
    err = e.value
    assert err.total == 31
    assert len(err.errors) == 5
    assert [(x.row, x.column) for x in err.errors] == [
        (2, "lat"), (3, "lat"), (4, "lat"), (5, "precision_m"), (5, "mechanism")]
    assert "... and 26 more" in str(err)


def test_header_errors(tmp_path, act):
    with pytest.raises(SourceError) as e:
        P.read_feed(_csv(tmp_path, GOOD, header=HEADER.replace(",mechanism", ",source")), act, now=NOW)
    assert (e.value.row, e.value.column) == (1, "mechanism") and "missing column" in str(e.value)
    with pytest.raises(SourceError) as e:
        P.read_feed(_csv(tmp_path, [g + ",x" for g in GOOD], header=HEADER + ",extra"), act, now=NOW)
    assert (e.value.row, e.value.column) == (1, "extra") and "unknown column" in str(e.value)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SourceError, match="empty"):
        P.read_feed(tmp_path / "empty.csv", act, now=NOW)
    with pytest.raises(SourceError, match=r"\.csv or \.parquet"):
        P.read_feed(tmp_path / "activations.csv", act, now=NOW) if False else P.read_feed(
            _csv(tmp_path, GOOD, name="feed.txt"), act, now=NOW)


def test_malformed_csv_line_and_bad_encoding_are_located(tmp_path, act):
    with pytest.raises(SourceError) as e:
        P.read_feed(_csv(tmp_path, [GOOD[0], GOOD[1], "D1,2024-03-04T10:05:00Z,51.5"]), act, now=NOW)
    assert e.value.row == 4 and "3 fields where the header has 9" in str(e.value)
    p = tmp_path / "latin1.csv"
    p.write_bytes((HEADER + "\n" + GOOD[0] + "\n").encode() + b"D1,2024-03-04T10:05:00Z,51.5,-0.1,\xe9,,,GPS,"
                  b"2024-03-04T10:05:10Z\n")
    with pytest.raises(SourceError) as e:
        P.read_feed(p, act, now=NOW)
    assert e.value.row == 3 and "not UTF-8" in str(e.value)


def test_activations_file_is_validated(tmp_path):
    p = tmp_path / "act.csv"
    p.write_text("device_id,wearer_ref,active_from,active_to\n"
                 "D1,W1,2024-03-01T00:00:00Z,2024-03-05T00:00:00Z\n"
                 "D1,W2,2024-03-04T00:00:00Z,\n"  # overlaps the first
                 "D2,W3,2024-03-01T00:00:00,\n"  # naive
                 "D3,W4,2024-03-02T00:00:00Z,2024-03-01T00:00:00Z\n"  # ends before it starts
                 "D4,,2024-03-01T00:00:00Z,\n")
    with pytest.raises(P.FeedError) as e:
        P.read_activations(p)
    got = [(x.row, x.column) for x in e.value.errors]
    assert got == [(3, "active_from"), (4, "active_from"), (5, "active_to"), (6, "wearer_ref")]
    assert "already has an activation" in e.value.errors[0].reason


def _acts_frame(rows):
    df = pd.DataFrame(rows, columns=["device_id", "wearer_ref", "active_from", "active_to"])
    for c in ("active_from", "active_to"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


@pytest.mark.parametrize("kind", ["pandas", "arrow"])
def test_activations_given_as_a_table_are_checked_for_overlaps_like_a_file(tmp_path, kind):
    rows = [("D1", "W1", "2024-03-01T00:00:00Z", "2024-03-05T00:00:00Z"),
            ("D2", "W3", "2024-03-01T00:00:00Z", None),
            ("D1", "W2", "2024-03-04T00:00:00Z", None),  # overlaps the first (D1 until 5 March)
            ("D2", "W4", "2024-03-09T00:00:00Z", None),  # D2 is still open from 1 March
            ("D3", "W5", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
            ("D3", "W6", "2024-03-02T00:00:00Z", None),  # half-open: starts as the other ends, allowed
            ("D4", "W7", "2024-03-02T00:00:00Z", "2024-03-01T00:00:00Z")]  # ends before it starts
    df = _acts_frame(rows)
    table = df if kind == "pandas" else pa.Table.from_pandas(df, preserve_index=False)
    with pytest.raises(P.FeedError) as e:
        P.read_activations(table)
    got = [(x.row, x.column) for x in e.value.errors]
    assert got == [(3, "active_from"), (4, "active_from"), (7, "active_to")]
    assert "device 'D1' already has an activation that covers 2024-03-04T00:00:00Z" in \
        e.value.errors[0].reason
    assert "<activations table>" in str(e.value)
    # an import given those activations stores nothing
    with pytest.raises(P.FeedError):
        P.import_positions(_csv(tmp_path, GOOD), table, tmp_path / "store", now=NOW)
    assert not list((tmp_path / "store").rglob("*.parquet"))
    # without the bad rows the same table is accepted
    good = P.read_activations(_acts_frame([rows[i] for i in (0, 1, 4, 5)]))
    assert good.num_rows == 4 and good.schema == S.ACTIVATIONS


# --------------------------------------------------------------------------- the store


def _snapshot(root):
    return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns) for p in root.rglob("*.parquet"))


def test_import_writes_partitions_by_day_and_reimport_changes_nothing(tmp_path, act):
    root = tmp_path / "store"
    feed = _csv(tmp_path, GOOD)
    r = P.import_positions(feed, act, root, now=NOW)
    assert (r.rows, r.imported, r.duplicates) == (4, 4, 0)
    assert store.list_days(root) == ["2024-03-04", "2024-03-05", "2024-03-06"]
    snap = _snapshot(root)
    r2 = P.import_positions(feed, act, root, now=NOW)
    assert (r2.imported, r2.duplicates, r2.days) == (0, 4, [])
    assert _snapshot(root) == snap  # not one file rewritten
    assert store.read_positions(root).num_rows == 4


def test_reconnect_burst_is_deduplicated_keeping_the_first_received(tmp_path, act):
    root = tmp_path / "store"
    burst = [
        "D1,2024-03-04T10:02:00Z,51.5012,-0.1238,6,4,80,GPS,2024-03-04T10:30:05Z",
        "D1,2024-03-04T10:01:00Z,51.5010,-0.1240,6,4,80,GPS,2024-03-04T10:30:01Z",  # out of order
        "D1,2024-03-04T10:02:00Z,51.5012,-0.1238,6,4,80,GPS,2024-03-04T10:31:00Z",  # resent
        "D1,2024-03-04T10:01:00Z,51.5010,-0.1240,6,4,80,GPS,2024-03-04T10:31:02Z",  # resent
    ]
    r = P.import_positions(_csv(tmp_path, burst), act, root, now=NOW)
    assert (r.rows, r.imported, r.duplicates) == (4, 2, 2)
    got = store.read_positions(root).to_pandas()
    assert got[S.FIX_TIME].tolist() == [_ts("2024-03-04T10:01:00Z"), _ts("2024-03-04T10:02:00Z")]
    assert got[S.RECEIVED_TIME].tolist() == [_ts("2024-03-04T10:30:01Z"), _ts("2024-03-04T10:30:05Z")]
    # a later file overlapping the stored fixes adds only what is new, to the same day
    more = [burst[0], "D1,2024-03-04T10:03:00Z,51.5014,-0.1236,6,4,80,GPS,2024-03-04T10:32:00Z"]
    r = P.import_positions(_csv(tmp_path, more, name="more.csv"), act, root, now=NOW)
    assert (r.imported, r.duplicates, r.days) == (1, 1, ["2024-03-04"])
    assert store.read_positions(root).num_rows == 3
    assert len(list((root / "day=2024-03-04").glob("*.parquet"))) == 1  # the day was rewritten whole


def test_a_bad_file_writes_nothing_even_with_good_rows(tmp_path, act):
    root = tmp_path / "store"
    P.import_positions(_csv(tmp_path, GOOD[:1]), act, root, now=NOW)
    snap = _snapshot(root)
    with pytest.raises(P.FeedError):
        P.import_positions(_csv(tmp_path, [*GOOD[1:], _row(lat="95")], name="bad.csv"), act, root, now=NOW)
    assert _snapshot(root) == snap
    assert store.read_positions(root).num_rows == 1


def _read_in_child(feed, act, conn):
    try:
        t = P.read_feed(feed, act, now=NOW)
        conn.send(t.column(S.EASTING).to_pylist())
    except BaseException as e:  # reported to the parent, which fails the test with it
        conn.send(repr(e))
    finally:
        conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_the_conversion_threads_are_kept_and_a_forked_child_makes_its_own(tmp_path, act):
    import multiprocessing

    feed = _csv(tmp_path, GOOD)
    first = P.read_feed(feed, act, now=NOW)
    pool = P._bng_pool()
    assert P.read_feed(feed, act, now=NOW).equals(first) and P._bng_pool() is pool  # one pool per process
    # a forked child has none of the parent's threads: it must not wait on them
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_read_in_child, args=(feed, act, send))
    child.start()
    send.close()
    ready = recv.poll(120)
    child.join(5 if ready else 0)
    if child.is_alive():
        child.kill()
    assert ready, "the forked child's import hung"
    assert recv.recv() == first.column(S.EASTING).to_pylist()


def _positions(tmp_path, act):
    return P.read_feed(_csv(tmp_path, GOOD, name="src.csv"), act, now=NOW)


def test_failure_before_commit_leaves_the_store_as_it_was(tmp_path, act):
    root = tmp_path / "store"
    t = _positions(tmp_path, act)
    store.write_positions(root, t.slice(0, 1))
    snap = _snapshot(root)
    with pytest.raises(OSError, match="simulated"):
        store.write_positions(root, t, _fail_before_commit=True)
    assert _snapshot(root) == snap  # nothing left behind, not even in the staging folder
    assert store.read_positions(root).num_rows == 1
    assert not (root / store.STAGING).exists()
    # a crash (no clean-up) after staging: the staged files are invisible, recover() removes them
    tx = root / store.STAGING / "deadbeef" / "new" / "day=2024-03-05"
    tx.mkdir(parents=True)
    pq.write_table(t, tx / "part-deadbeef-0.parquet")
    assert store.read_positions(root).num_rows == 1
    store.recover(root)
    assert not (root / store.STAGING).exists() and _snapshot(root) == snap
    assert store.write_positions(root, t).added == 3


def test_crash_during_apply_is_finished_by_recover(tmp_path, act, monkeypatch):
    root = tmp_path / "store"
    t = _positions(tmp_path, act)

    def crash(root_, tx):
        raise OSError("power cut")

    monkeypatch.setattr(store, "_apply", crash)
    with pytest.raises(OSError, match="power cut"):
        store.write_positions(root, t)
    monkeypatch.undo()
    assert (root / store.STAGING).is_dir()  # committed, not yet applied
    store.recover(root)
    assert store.read_positions(root).num_rows == 4
    assert not (root / store.STAGING).exists()


def test_partition_pruning_reads_only_the_days_asked(tmp_path, act):
    root = tmp_path / "store"
    P.import_positions(_csv(tmp_path, GOOD), act, root, now=NOW)
    files = store.partition_files(root, "2024-03-05T12:00:00Z", "2024-03-06T00:00:00Z")
    assert [f.parent.name for f in files] == ["day=2024-03-05"]
    # corrupt the other days: a pruned read never opens them
    for d in ("2024-03-04", "2024-03-06"):
        for f in (root / f"day={d}").glob("*.parquet"):
            f.write_bytes(b"not parquet")
    got = store.read_positions(root, "2024-03-05T12:00:00Z", "2024-03-06T00:00:00Z")
    assert got.num_rows == 1 and got[S.DEVICE_ID][0].as_py() == "D2"
    con = ibis.duckdb.connect()
    t = store.positions_table(con, root, "2024-03-05T12:00:00Z", "2024-03-06T00:00:00Z")
    assert t.count().execute() == 1
    assert list(t.columns) == list(S.POSITIONS.names)
    # end is exclusive: a window ending at midnight does not need the next day
    assert store.partition_files(root, "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z") == files
    with pytest.raises(duckdb.Error):
        store.read_positions(root)  # the unpruned read does open the corrupt files
    empty = store.positions_table(con, root, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z")
    assert empty.count().execute() == 0
    with pytest.raises(ValueError, match="no time zone"):
        store.partition_files(root, "2024-03-05", None)


def test_read_filters_by_time_and_device(tmp_path, act):
    root = tmp_path / "store"
    P.import_positions(_csv(tmp_path, GOOD), act, root, now=NOW)
    got = store.read_positions(root, "2024-03-04T10:00:30Z", "2024-03-06T00:01:00Z", devices=["D2"])
    assert got[S.FIX_TIME].to_pylist() == [_ts("2024-03-05T23:59:00Z")]
    assert store.read_positions(root, devices=[]).num_rows == 0


# --------------------------------------------------------------------------- retention


def _many(tmp_path, act):
    """D1 and D2: a fix every hour from 2024-03-04T00:00 to 2024-03-06T23:00 (72 each)."""
    rows = []
    for dev in ("D1", "D2"):
        for h in range(72):
            t = pd.Timestamp("2024-03-04T00:00Z") + pd.Timedelta(hours=h)
            rows.append(f"{dev},{t:%Y-%m-%dT%H:%M:%SZ},51.5,-0.12,5,0,,GPS,{t:%Y-%m-%dT%H:%M:%SZ}")
    root = tmp_path / "store"
    P.import_positions(_csv(tmp_path, rows, name="many.csv"), act, root, now=NOW)
    return root


def test_purge_deletes_old_fixes_except_the_kept_intervals(tmp_path, act):
    root = _many(tmp_path, act)
    keep = pd.DataFrame({
        S.DEVICE_ID: ["D1", "D2"],
        S.TIME_FROM: pd.to_datetime(["2024-03-04T10:00Z", "2024-03-05T20:00Z"], utc=True),
        S.TIME_TO: pd.to_datetime(["2024-03-04T12:00Z", "2024-03-06T02:00Z"], utc=True),
    })
    r = store.purge(root, "2024-03-06T00:00:00Z", keep)
    # before the cut-off: 2 x 48 fixes; kept: D1 10,11,12 h on the 4th (3) and D2 20..23 h on the 5th (4)
    assert (r.deleted, r.kept) == (96 - 7, 7)
    assert r.days_rewritten == ["2024-03-04", "2024-03-05"] and r.days_deleted == []
    left = store.read_positions(root).to_pandas()
    old = left[left[S.FIX_TIME] < _ts("2024-03-06T00:00Z")]
    assert sorted(zip(old[S.DEVICE_ID], old[S.FIX_TIME].dt.strftime("%dT%H"), strict=True)) == [
        ("D1", "04T10"), ("D1", "04T11"), ("D1", "04T12"),
        ("D2", "05T20"), ("D2", "05T21"), ("D2", "05T22"), ("D2", "05T23")]
    assert (left[S.FIX_TIME] >= _ts("2024-03-06T00:00Z")).sum() == 48  # newer fixes untouched
    # again: nothing more to delete, nothing rewritten
    snap = _snapshot(root)
    assert store.purge(root, "2024-03-06T00:00:00Z", keep).deleted == 0
    assert _snapshot(root) == snap


def test_purge_without_keep_deletes_whole_days_and_a_partial_day(tmp_path, act):
    root = _many(tmp_path, act)
    r = store.purge(root, "2024-03-05T06:00:00Z")
    assert r.deleted == 2 * 30 and r.kept == 0
    assert r.days_deleted == ["2024-03-04"] and r.days_rewritten == ["2024-03-05"]
    assert store.list_days(root) == ["2024-03-05", "2024-03-06"]
    assert not (root / "day=2024-03-04").exists()
    left = store.read_positions(root).to_pandas()
    assert left[S.FIX_TIME].min() == _ts("2024-03-05T06:00Z") and len(left) == 2 * 42
    with pytest.raises(ValueError, match="no time zone"):
        store.purge(root, "2024-03-05T06:00:00")


# --------------------------------------------------------------------------- command line


def test_cli_import_refuses_a_bad_file_and_imports_a_good_one(tmp_path, act):
    root = tmp_path / "store"
    good = _csv(tmp_path, GOOD[:2], name="good.csv")
    bad = _csv(tmp_path, [_row(mechanism="SAT")], name="bad.csv")
    r = CliRunner().invoke(tagging, ["import-positions", str(bad), str(good), "-a", str(act),
                                     "-s", str(root)])
    assert r.exit_code == 2
    assert "refused" in r.output and "row 2, column 'mechanism'" in r.output
    assert "imported" in r.output and "2 new fix(es)" in r.output
    assert store.read_positions(root).num_rows == 2
    keep = tmp_path / "keep.csv"
    keep.write_text("device_id,time_from,time_to\nD1,2024-03-04T10:00:00Z,2024-03-04T10:00:00Z\n")
    r = CliRunner().invoke(tagging, ["purge-positions", "-s", str(root), "--before", "2024-03-05T00:00Z",
                                     "--keep", str(keep)])
    assert r.exit_code == 0, r.output
    assert "deleted 1 fix(es), kept 1" in r.output
    r = CliRunner().invoke(tagging, ["purge-positions", "-s", str(root), "--before", "2024-03-05"])
    assert r.exit_code == 2 and "no time zone" in r.output


def test_lock_file_and_staging_are_not_partitions(tmp_path, act):
    root = tmp_path / "store"
    P.import_positions(_csv(tmp_path, GOOD), act, root, now=NOW)
    assert sorted(os.listdir(root)) == [".lock", "day=2024-03-04", "day=2024-03-05", "day=2024-03-06"]


def test_activation_checks_against_their_definition():
    """The vectorised check gives, for every fix, what the definition says: the device is unknown, or
    no activation of the device covers the fix (active_from <= fix_time < active_to; no end: open)."""
    from vru.tagging.positions import _activation_checks

    t0 = pd.Timestamp("2024-03-01T00:00:00Z")
    acts = [("A", 0, 10), ("A", 20, 30), ("A", 40, None), ("B", 5, 6), ("C", 100, None)]
    act = pa.table({
        "device_id": [a[0] for a in acts], "wearer_ref": ["W"] * len(acts),
        "active_from": pa.array([t0 + pd.Timedelta(hours=a[1]) for a in acts], S.UTC_TS),
        "active_to": pa.array([None if a[2] is None else t0 + pd.Timedelta(hours=a[2]) for a in acts],
                              S.UTC_TS)}, schema=S.ACTIVATIONS)
    rng = np.random.default_rng(1)
    devs = rng.choice(["A", "B", "C", "Z", None], 400).tolist()
    hours = rng.integers(-5, 120, 400)
    fixes = [t0 + pd.Timedelta(hours=int(h)) for h in hours]
    fixes[3] = None
    unknown, outside = _activation_checks(pa.array(devs, pa.string()), pa.array(fixes, S.UTC_TS), act)
    for i, (d, f) in enumerate(zip(devs, fixes, strict=True)):
        mine = [a for a in acts if a[0] == d]
        assert unknown[i] == (d is not None and not mine)
        covered = f is not None and any(t0 + pd.Timedelta(hours=a[1]) <= f
                                        and (a[2] is None or f < t0 + pd.Timedelta(hours=a[2])) for a in mine)
        assert outside[i] == (bool(mine) and f is not None and not covered), (d, f)


@pytest.mark.parametrize("packed", [True, False], ids=["one-key sort", "three-key sort"])
def test_store_order_and_deduplication_against_their_definition(monkeypatch, packed):
    """The rows kept and their order are what the definition says: store order (day, device_id,
    fix_time); one row per (device_id, fix_time): a stored row if there is one, else the new row
    received first, then the lowest lat, lon, mechanism. Equal device ids given as different
    dictionary entries are one device. Both sorts (one packed integer key, or three keys when the key
    would not fit in 63 bits) give the same rows."""
    if not packed:
        monkeypatch.setattr(store, "_TIME_BITS", 62)
    rng = np.random.default_rng(3)
    n_old, n = 300, 1000
    devices = np.array(["D1", "D10", "D2", "d1", "é", "D1"])  # "D1" twice in the dictionary
    dev_idx = rng.integers(0, len(devices), n)
    ft = pd.Timestamp("2024-03-03T23:00:00Z").value // 1000 + rng.integers(0, 50, n) * 3_600_000_000
    old_keys = set()
    for i in range(n_old):  # the stored rows are unique on (device_id, fix_time)
        while (str(devices[dev_idx[i]]), int(ft[i])) in old_keys:
            ft[i] += 60_000_000
        old_keys.add((str(devices[dev_idx[i]]), int(ft[i])))
    received = ft + rng.integers(0, 3, n) * 1_000_000
    lat = np.round(51.5 + rng.integers(0, 2, n) * 0.001, 4)
    lon = np.round(-0.1 + rng.integers(0, 2, n) * 0.001, 4)
    mech = rng.choice(list(S.MECHANISMS), n)
    t = pa.table({
        S.DEVICE_ID: pa.DictionaryArray.from_arrays(pa.array(dev_idx, pa.int32()), pa.array(devices)),
        S.FIX_TIME: pa.array(ft).cast(S.UTC_TS), S.RECEIVED_TIME: pa.array(received).cast(S.UTC_TS),
        S.LAT: lat, S.LON: lon, S.EASTING: np.arange(n, dtype=float), S.NORTHING: np.zeros(n),
        S.PRECISION_M: np.ones(n), S.SPEED_KMH: np.zeros(n), S.HEADING_DEG: np.zeros(n),
        S.MECHANISM: pa.array(mech).dictionary_encode()})
    rows, days = store._dedup_order(store._conform_stored(t), n_old)

    best = {}
    for i in range(n):
        k = (str(devices[dev_idx[i]]), int(ft[i]))
        rank = (i >= n_old, received[i], lat[i], lon[i], str(mech[i]))
        if k not in best or rank < best[k][0]:
            best[k] = (rank, i)
    want = sorted(best.items(), key=lambda kv: (kv[0][1] // 86_400_000_000, kv[0][0], kv[0][1]))
    assert rows.tolist() == [i for _, (_, i) in want]
    assert days.tolist() == [k[1] // 86_400_000_000 for k, _ in want]


def test_a_receipt_is_committed_with_the_fixes_or_not_at_all(tmp_path, act):
    root = tmp_path / "store"
    t = _positions(tmp_path, act)
    seen = []

    def receipt(new):
        seen.append(new.num_rows)
        return {"file_name": "src.csv", "devices": sorted(set(new[S.DEVICE_ID].to_pylist()))}

    with pytest.raises(OSError, match="simulated"):
        store.write_positions(root, t, receipt=receipt, _fail_before_commit=True)
    assert store.pending_receipts(root) == [] and store.read_positions(root).num_rows == 0
    r = store.write_positions(root, t.slice(0, 3), receipt=receipt)
    [doc] = store.pending_receipts(root)
    assert doc == r.receipt and doc["txid"] == r.txid and (doc["added"], doc["rows"]) == (3, 3)
    assert doc["file_name"] == "src.csv" and seen == [t.num_rows, 3]
    r2 = store.write_positions(root, t, receipt=receipt)
    assert r2.added == t.num_rows - 3 and len(store.pending_receipts(root)) == 2
    assert store.write_positions(root, t, receipt=receipt).receipt is None  # nothing added, no receipt
    store.clear_receipt(root, r.txid)
    store.clear_receipt(root, r.txid)  # already gone: no error
    assert [d["txid"] for d in store.pending_receipts(root)] == [r2.txid]
    with pytest.raises(ValueError):
        store.clear_receipt(root, "../day=2024-03-04/x")


def test_a_receipt_committed_before_a_crash_is_moved_in_by_recover(tmp_path):
    import json

    root = tmp_path / "store"
    tx = root / store.STAGING / "abc123"
    tx.mkdir(parents=True)
    (tx / "receipt.json").write_text(json.dumps({"txid": "abc123", "added": 5}))
    (tx / "plan.json").write_text(json.dumps({"add": [], "remove": [], "days": [], "receipt": "abc123.json"}))
    assert store.pending_receipts(root) == []
    store.recover(root)
    assert store.pending_receipts(root) == [{"txid": "abc123", "added": 5}]
    assert not (root / store.STAGING).exists()
