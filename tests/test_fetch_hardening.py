"""``vru fetch`` on the cases a review found: a new MPS category (a user category map, a file ingested
by hand), every layout the loaders read, hostile answers (odd headers, encrypted or unreadable ZIP
members, oversized bodies, damaged or unverifiable downloads, redirects, hostile addresses). The local
loopback server and the recorded files are those of ``test_fetch_cli``; nothing touches the internet."""

from __future__ import annotations

import json

from click.testing import CliRunner

import test_fetch_cli as base
from test_fetch_cli import MPS_PATH, loads, mps_slice, run
from vru.cli import main

server, env = base.server, base.env  # the loopback server and a warehouse, archive, sources file

NEW_PAIR = ("ARSON AND CRIMINAL DAMAGE", "ARSON - NEW NAME")


def unknown_category_body() -> bytes:
    body = mps_slice().replace(b"ARSON AND CRIMINAL DAMAGE,ARSON,", b"%s,%s," % tuple(
        s.encode() for s in NEW_PAIR), 1)
    assert body != mps_slice()
    return body


def write_map(tmp_path, category="arson"):
    p = tmp_path / "my map.csv"
    p.write_text(f"major,minor,category\n{NEW_PAIR[0]},{NEW_PAIR[1]},{category}\n")
    return p


def manifest_flags(env, key="mps_borough_recent"):
    m = json.loads((env["archive"] / "manifest.json").read_text())["downloads"]
    return [f["ingested"] for f in m[key]["files"]]


def test_new_category_refusal_names_the_command_that_works_and_it_works(env, server, tmp_path):
    server.routes[MPS_PATH]["body"] = unknown_category_body()
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    command = (f"vru fetch --warehouse {env['wh']} --archive {env['archive']} "
               "--category-map YOUR_MAP.csv")
    assert command in r.output, r.output
    assert manifest_flags(env) == [False]
    mapping = write_map(tmp_path)
    r = run(env, "--category-map", str(mapping), only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    assert "unchanged  mps_borough_recent" in r.output  # nothing downloaded again
    assert "loaded" in r.output
    assert manifest_flags(env) == [True]
    from vru.warehouse.store import Warehouse

    with Warehouse.open(env["wh"], read_only=True) as wh:
        maps = wh.sql("SELECT category_map FROM loads WHERE source LIKE 'mps%'")["category_map"]
    assert list(maps) == ["my map.csv"]
    # the next run has nothing pending and needs no map
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output


def test_a_pending_file_ingested_by_hand_is_marked_not_reread(env, server, tmp_path):
    server.routes[MPS_PATH]["body"] = unknown_category_body()
    assert run(env, only=("mps_borough_recent",)).exit_code == 2
    m = json.loads((env["archive"] / "manifest.json").read_text())["downloads"]
    path = env["archive"] / m["mps_borough_recent"]["files"][0]["path"]
    r = CliRunner().invoke(main, ["ingest", "-w", str(env["wh"]), "--category-map",
                                  str(write_map(tmp_path)), str(path)])
    assert r.exit_code == 0, r.output
    before = loads(env)
    r = run(env, only=("mps_borough_recent",))  # no map: the file is already in the warehouse
    assert r.exit_code == 0, r.output
    assert f"unchanged  {path}" in r.output
    assert manifest_flags(env) == [True] and loads(env) == before


def test_a_bad_category_map_is_refused_before_downloading(env, server, tmp_path):
    bad = write_map(tmp_path, category="no_such_category")
    r = run(env, "--category-map", str(bad), only=("mps_borough_recent",))
    assert r.exit_code == 2 and "unknown platform category 'no_such_category'" in r.output
    assert server.log == []


def group_layout_body() -> bytes:
    """The MPS borough file in the layout published since 2026 (``Group, SubGroup, BOCU``), quoted,
    with a byte-order mark and a comma inside a minor category."""
    lines = ['"Group","SubGroup","BOCU","202405","202406","202407","202408"',
             '"PUBLIC ORDER OFFENCES","PUBLIC FEAR, ALARM OR DISTRESS","Hackney","150","140","160","155"',
             '"BURGLARY","RES BURGLARY OF A HOME","Hackney","60","61","62","63"',
             '"NFIB FRAUD","NFIB","Hackney","1","0","0","0"']
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def test_the_current_borough_layout_is_fetched_and_ingested(env, server):
    server.routes[MPS_PATH]["body"] = group_layout_body()
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    assert "downloaded mps_borough_recent" in r.output and "loaded" in r.output
    assert manifest_flags(env) == [True]


def test_a_page_named_like_the_file_is_still_refused(env, server):
    # the stored name is the publisher's, which the MPS loader claims by name: the check is by content
    server.routes[MPS_PATH]["body"] = b"<!DOCTYPE html><html><body>Moved</body></html>\n"
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2 and "not the expected format" in r.output
    assert "unknown data format" in r.output and "vru-fetch-check" not in r.output
    assert not (env["archive"] / "mps_borough_recent").exists()
