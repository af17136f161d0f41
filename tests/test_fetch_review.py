"""Review of issue 17 (``vru fetch`` and the national warehouse): the defects a reviewer found,
each with a test that fails without its fix."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import test_fetch_cli as base
from test_fetch_cli import MPS_PATH, run
from vru import api
from vru.cli import main
from vru.errors import VRUError, WarehouseError
from vru.warehouse.ingest import bundled_dir
from vru.warehouse.store import Warehouse

server, env = base.server, base.env  # the loopback server and a warehouse, archive, sources file


def mps_window(first: int, last: int, bump: int = 0, rows: int = 40) -> bytes:
    """The bundled MPS borough file's first ``rows`` rows, month columns ``first``..``last``
    (0-based among the month columns), ``bump`` added to every count (a revised release)."""
    path = bundled_dir() / "mps_crime_borough" / "mps_borough_crime_historical_201004_202311.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode("utf-8-sig").splitlines()
    out = []
    for i, line in enumerate(lines[: rows + 1]):
        f = line.split(",")
        months = f[3:][first: last + 1]
        if i and bump:
            months = [str(int(v) + bump) for v in months]
        out.append(",".join(f[:3] + months))
    return ("\r\n".join(out) + "\r\n").encode()


def mps_months(wh_path) -> dict[str, int]:
    with Warehouse.open(wh_path, read_only=True) as wh:
        df = wh.sql("SELECT strftime(month, '%Y-%m') AS m, sum(count) AS n FROM crime "
                    "WHERE source LIKE 'mps_borough%' GROUP BY 1 ORDER BY 1")
    return dict(zip(df["m"], df["n"].astype(int), strict=True))


def test_a_release_fetched_but_not_ingested_is_ingested_when_a_newer_one_arrives(env, server):
    # release 1: months 0..2, fetched with --no-ingest; release 2: months 1..3, revised (+1)
    server.routes[MPS_PATH].update(body=mps_window(0, 2), etag='"r1"')
    r = run(env, "--no-ingest", only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    one = base.loads(env)
    assert one == []
    server.routes[MPS_PATH].update(body=mps_window(1, 3, bump=1), etag='"r2"')
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    got = mps_months(env["wh"])
    assert len(got) == 4  # months 0..3: the first release's first month is not lost
    # the months both releases cover hold the newer (revised) figures
    Warehouse.create(env["wh"], replace=True).close()
    server.routes[MPS_PATH].update(body=mps_window(0, 3), etag='"r3"')
    assert run(env, only=("mps_borough_recent",)).exit_code == 0
    plain = mps_months(env["wh"])
    months = sorted(plain)
    rows = 40
    assert got[months[0]] == plain[months[0]]
    for m in months[1:]:
        assert got[m] == plain[m] + rows  # +1 on each of the 40 rows
    manifest = json.loads((env["archive"] / "manifest.json").read_text())["downloads"]
    entry = manifest["mps_borough_recent"]
    assert all(f["ingested"] for rel in entry["releases"] for f in rel["files"])


@pytest.fixture
def held_warehouse(tmp_path):
    """A warehouse that another process holds open for writing (as a running ingest does)."""
    wh = tmp_path / "held.duckdb"
    Warehouse.create(wh).close()
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(wh)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield wh
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.mark.parametrize("args", [["status"], ["ingest", "{file}"]])
def test_a_warehouse_held_by_another_process_is_reported_plainly(held_warehouse, tmp_path, args):
    csv = tmp_path / "x.csv"
    csv.write_text("a\n1\n")
    args = [a.replace("{file}", str(csv)) for a in args]
    r = CliRunner().invoke(main, [args[0], "--warehouse", str(held_warehouse), *args[1:]])
    assert r.exit_code == 2, r.output
    assert f"the warehouse {held_warehouse} is in use by another process" in r.output
    assert "Traceback" not in r.output and "IOException" not in r.output
    with pytest.raises(WarehouseError, match="in use by another process"):
        Warehouse.open(held_warehouse, read_only=True)


@pytest.mark.parametrize("newer_first", [True, False])
def test_overlapping_releases_in_one_call_newest_wins_and_loads_add_up(tmp_path, newer_first):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_bytes(mps_window(0, 2))
    new.write_bytes(mps_window(1, 3, bump=1))
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    files = [new, old] if newer_first else [old, new]
    results = api.ingest(files, wh)
    got = mps_months(wh)
    plain_path = tmp_path / "plain.duckdb"
    Warehouse.create(plain_path).close()
    (tmp_path / "all.csv").write_bytes(mps_window(0, 3))
    api.ingest([tmp_path / "all.csv"], plain_path)
    plain = mps_months(plain_path)
    months = sorted(plain)
    assert got[months[0]] == plain[months[0]]
    assert all(got[m] == plain[m] + 40 for m in months[1:])  # the newer release's figures
    with Warehouse.open(wh, read_only=True) as w:
        stored = w.counts()["crime"]
        loads = dict(w.sql("SELECT path, rows FROM loads").itertuples(index=False))
    assert sum(loads.values()) == stored
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["old.csv"].rows == loads[str(old)] < loads[str(new)]
    assert any("replaced by a newer file of the same call" in n for n in by_name["old.csv"].notes)


def test_two_releases_ending_in_the_same_month_in_one_call_are_refused(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(mps_window(0, 3))
    b.write_bytes(mps_window(1, 3, bump=2))
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    with pytest.raises(VRUError, match="which release is newer cannot be told: ingest them in "
                                       "separate calls"):
        api.ingest([a, b], wh)


def test_a_reissued_release_pending_beside_the_one_before_is_ingested_in_release_order(env, server):
    # two releases of the same 4 months, the second revised, both pending: fetch knows their
    # order from its manifest, so the re-issue wins and nothing is refused as ambiguous
    server.routes[MPS_PATH].update(body=mps_window(0, 3), etag='"r1"')
    assert run(env, "--no-ingest", only=("mps_borough_recent",)).exit_code == 0
    server.routes[MPS_PATH].update(body=mps_window(0, 3, bump=3), etag='"r2"')
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    got = mps_months(env["wh"])
    revised = env["archive"].parent / "revised.csv"
    revised.write_bytes(mps_window(0, 3, bump=3))
    Warehouse.create(env["wh"], replace=True).close()
    api.ingest([revised], env["wh"])
    assert got == mps_months(env["wh"])  # the re-issue's figures, all four months


def test_no_network_leaves_no_archive_folder(env):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env["sources"].write_text(f'mps_borough_recent = "http://127.0.0.1:{port}/x.csv"\n')
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2 and "cannot reach" in r.output
    assert not env["archive"].exists()


def test_a_second_fetch_on_the_same_archive_is_refused(env, server):
    assert run(env, only=("mps_borough_recent",)).exit_code == 0
    code = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(env["archive"])],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        before = server.requests_to(MPS_PATH)
        r = run(env, only=("mps_borough_recent",))
        assert r.exit_code == 2
        assert f"another vru fetch is using the archive {env['archive'].resolve()}" in r.output
        assert server.requests_to(MPS_PATH) == before  # nothing downloaded
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert run(env, only=("mps_borough_recent",)).exit_code == 0  # free again


def test_a_file_loaded_with_a_category_map_names_the_map_when_ingested_without(tmp_path):
    f = tmp_path / "new.csv"
    f.write_bytes(mps_window(0, 2).replace(b"ARSON AND CRIMINAL DAMAGE,ARSON,",
                                           b"ARSON AND CRIMINAL DAMAGE,ARSON OF A SPACESHIP,"))
    cmap = tmp_path / "my_map.csv"
    cmap.write_text("major,minor,category\n"
                    "ARSON AND CRIMINAL DAMAGE,ARSON OF A SPACESHIP,arson_and_criminal_damage\n")
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    assert api.ingest([f], wh, category_map=cmap)[0].status == "loaded"
    with pytest.raises(VRUError) as e:
        api.ingest([f], wh)  # the same file, no map
    msg = str(e.value)
    assert "ARSON OF A SPACESHIP" in msg  # the refusal itself is kept
    assert "loaded before with the category map my_map.csv (SHA-256 " in msg
    assert "--category-map my_map.csv" in msg


@pytest.mark.parametrize("target", ["knife_offences", "other_knife_offences"])
def test_a_map_sending_a_coarse_category_to_knife_offences_is_refused(tmp_path, target):
    f = tmp_path / "coarse.csv"
    f.write_bytes(mps_window(0, 2) + b"WEAPONS,BLADES AND OTHER THINGS,Barking and Dagenham,1,2,3\r\n")
    cmap = tmp_path / "knife_map.csv"
    cmap.write_text(f"major,minor,category\nWEAPONS,BLADES AND OTHER THINGS,{target}\n")
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    with pytest.raises(VRUError) as e:
        api.ingest([f], wh, category_map=cmap)
    msg = str(e.value)
    assert msg.startswith(f"{cmap}, row 2, column 'category': maps (WEAPONS / BLADES AND OTHER "
                          f"THINGS) of coarse.csv, a file of the coarse MPS classification, to "
                          f"{target}: knife offences exist only where the source publishes them")
    cmap.write_text("major,minor,category\nWEAPONS,BLADES AND OTHER THINGS,possession_of_weapons\n")
    assert api.ingest([f], wh, category_map=cmap)[0].status == "loaded"


def test_ingest_notes_a_series_renamed_within_a_file(tmp_path):
    f = tmp_path / "renamed.csv"
    f.write_text("MajorText,MinorText,BoroughName,202401,202402,202403\n"
                 "BURGLARY,BURGLARY IN A DWELLING,Barking and Dagenham,5,0,0\n"
                 "BURGLARY,BURGLARY - RESIDENTIAL,Barking and Dagenham,0,6,7\n"
                 "ROBBERY,ROBBERY OF PERSONAL PROPERTY,Barking and Dagenham,3,4,5\n")
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    r = CliRunner().invoke(main, ["ingest", "--warehouse", str(wh), str(f)])
    assert r.exit_code == 0, r.output
    assert ("series renamed within the file: residential_burglary is published as BURGLARY / "
            "BURGLARY IN A DWELLING (2024-01..2024-01); BURGLARY / BURGLARY - RESIDENTIAL "
            "(2024-02..2024-03); read as one series residential_burglary") in r.output
    assert "robbery is published" not in r.output
    with Warehouse.open(wh, read_only=True) as w:
        n = w.sql("SELECT count(*) AS n FROM crime WHERE category = 'residential_burglary'")["n"][0]
    assert n == 3  # one series, three months
    from vru.outputs.sections import sources as present
    from vru.pipelines import sources

    with Warehouse.open(wh, read_only=True) as w:
        body = present.data_sources(sources.run(w)).body
    assert "renamed.csv: series renamed within the file: residential_burglary is published as" in body
