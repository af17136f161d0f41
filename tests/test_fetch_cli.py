"""``vru fetch`` against a local HTTP server on loopback serving recorded files: slices of the bundled
MPS borough file (served through a London Datastore-style dataset API) and of the bundled
data.police.uk City of London street files, zipped as data.police.uk zips its archive. Nothing here
touches the internet."""

from __future__ import annotations

import gzip
import io
import json
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru.cli import main
from vru.sources.fetch import _sha256
from vru.warehouse.ingest import bundled_dir
from vru.warehouse.store import Warehouse

MPS_TITLE = "MPS Borough Level Crime (most recent 24 months).csv"
MPS_PATH = ("/download/recorded_crime_summary/3f1c-0000/"
            "MPS%20Borough%20Level%20Crime%20%28most%20recent%2024%20months%29.csv")
ZIP_PATH = "/data/archive/latest.zip"


def mps_slice(rows: int = 40, bump: int = 0) -> bytes:
    """The first ``rows`` rows and the last 24 months of the bundled MPS borough file (coarse
    classification); ``bump`` is added to the first count (a revised release)."""
    path = bundled_dir() / "mps_crime_borough" / "mps_borough_crime_historical_201004_202311.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode("utf-8-sig").splitlines()
    out = []
    for i, line in enumerate(lines[: rows + 1]):
        f = line.split(",")
        f = f[:3] + f[-24:]
        if i == 1 and bump:
            f[3] = str(int(f[3]) + bump)
        out.append(",".join(f))
    return ("\r\n".join(out) + "\r\n").encode()


def police_zip(rows: int = 150) -> bytes:
    """A data.police.uk-style archive: ``YYYY-MM/YYYY-MM-<force>-street.csv`` members (the first
    ``rows`` rows of two bundled City of London months)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for month in ("2023-01", "2023-02"):
            folder = bundled_dir() / "police_uk_street_city_of_london_2023"
            src = folder / f"{month}-city-of-london-street.csv.gz"
            text = gzip.decompress(src.read_bytes()).decode()
            z.writestr(f"{month}/{month}-city-of-london-street.csv",
                       "\n".join(text.splitlines()[: rows + 1]) + "\n")
    return buf.getvalue()


class Server:
    """Routes: path -> dict(body, etag, status, truncate (times to cut the body short),
    ignore_range, redirect (a Location to answer 302 with), no_length (no Content-Length: the
    body ends when the connection closes), no_modified (no Last-Modified), headers (extra or
    replaced headers)). Every request is logged as (path, headers)."""

    def __init__(self):
        self.routes: dict[str, dict] = {}
        self.log: list[tuple[str, dict]] = []
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.log.append((self.path, dict(self.headers)))
                r = srv.routes.get(self.path)
                if r is None:
                    self.send_error(404)
                    return
                if r.get("status", 200) != 200:
                    self.send_error(r["status"])
                    return
                if r.get("redirect"):
                    self.send_response(302)
                    self.send_header("Location", r["redirect"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, etag = r["body"], r.get("etag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                start, code = 0, 200
                rng = self.headers.get("Range")
                if rng and not r.get("ignore_range") and self.headers.get("If-Range") in (None, etag):
                    start, code = int(rng.split("=")[1].rstrip("-")), 206
                self.send_response(code)
                headers = {"Last-Modified": "Tue, 01 Dec 2026 09:00:00 GMT",
                           "Content-Length": str(len(body) - start)}
                if etag:
                    headers["ETag"] = etag
                if r.get("no_modified"):
                    del headers["Last-Modified"]
                if r.get("no_length"):
                    del headers["Content-Length"]
                    headers["Connection"] = "close"
                for k, v in {**headers, **r.get("headers", {})}.items():
                    self.send_header(k, v)
                if code == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                part = body[start:]
                if r.get("truncate", 0) > 0:
                    r["truncate"] -= 1
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(part)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def datastore(self):
        self.routes["/api/dataset/recorded_crime_summary"] = {"body": json.dumps({
            "id": "recorded_crime_summary",
            "resources": {
                "3f1c-0000": {"title": MPS_TITLE, "format": "csv", "url": self.base + MPS_PATH,
                              "check_timestamp": "2026-12-01T09:00:00Z"},
                "77aa-0000": {"title": "MPS Ward Level Crime (most recent 24 months).csv",
                              "format": "csv", "url": self.base + "/download/x/ward.csv"},
            }}).encode()}

    def requests_to(self, path):
        return [h for p, h in self.log if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    s = Server()
    s.datastore()
    s.routes[MPS_PATH] = {"body": mps_slice(), "etag": '"mps-1"'}
    s.routes[ZIP_PATH] = {"body": police_zip(), "etag": '"zip-1"'}
    yield s
    s.close()


@pytest.fixture
def env(tmp_path, server):
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    sources = tmp_path / "sources.toml"
    sources.write_text(f'mps_borough_recent = "{server.base}/api/dataset/recorded_crime_summary"\n'
                       f'police_uk_street = "{server.base}/data/archive/{{month}}.zip"\n')
    return {"wh": wh, "archive": tmp_path / "archive", "sources": sources}


def run(env, *extra, only=("mps_borough_recent", "police_uk_street")):
    args = ["fetch", "--warehouse", str(env["wh"]), "--archive", str(env["archive"]),
            "--sources", str(env["sources"]), "--police-force", "city-of-london"]
    for k in only:
        args += ["--only", k]
    return CliRunner().invoke(main, args + list(extra))


def loads(env) -> list[tuple]:
    with Warehouse.open(env["wh"], read_only=True) as wh:
        df = wh.sql("SELECT sha256, source, path FROM loads ORDER BY 1")
    return [tuple(r) for r in df.itertuples(index=False)]


def archived(env) -> list[str]:
    a = env["archive"]
    return sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()) if a.exists() else []


def first_count(env) -> int:
    with Warehouse.open(env["wh"], read_only=True) as wh:
        return int(wh.sql("SELECT sum(count) AS n FROM crime WHERE source LIKE 'mps_borough%'")["n"][0])


def test_first_fetch_archives_verifies_and_ingests(env, server):
    r = run(env)
    assert r.exit_code == 0, r.output
    assert "downloaded mps_borough_recent" in r.output
    assert "downloaded police_uk_street" in r.output
    files = archived(env)
    assert "manifest.json" in files
    assert "police_uk_street/city-of-london/2023-01-city-of-london-street.csv.gz" in files
    assert "police_uk_street/city-of-london/2023-02-city-of-london-street.csv.gz" in files
    mps = [f for f in files if f.startswith("mps_borough_recent/")]
    assert mps == [f"mps_borough_recent/2026-12-01/{MPS_TITLE}"]  # folder: the release's date
    assert (env["archive"] / mps[0]).read_bytes() == mps_slice()
    manifest = json.loads((env["archive"] / "manifest.json").read_text())["downloads"]
    assert manifest["mps_borough_recent"]["sha256"] == _sha256(env["archive"] / mps[0])
    assert manifest["mps_borough_recent"]["etag"] == '"mps-1"'
    assert all(f["ingested"] for e in manifest.values() for f in e["files"])
    sources = {row[1] for row in loads(env)}
    assert {"mps_borough_coarse", "police_uk_street"} <= sources
    assert not (env["archive"] / ".parts").exists()


def test_second_fetch_downloads_nothing(env, server):
    assert run(env).exit_code == 0
    before, files = loads(env), archived(env)
    r = run(env)
    assert r.exit_code == 0, r.output
    assert "unchanged  mps_borough_recent" in r.output
    assert "unchanged  police_uk_street" in r.output
    last = server.requests_to(MPS_PATH)[-1]
    assert last.get("If-None-Match") == '"mps-1"'  # asked conditionally, answered 304
    assert loads(env) == before and archived(env) == files


def test_server_without_conditional_requests_is_caught_by_the_hash(env, server):
    server.routes[MPS_PATH].pop("etag")
    assert run(env, only=("mps_borough_recent",)).exit_code == 0
    files = archived(env)
    r = run(env, only=("mps_borough_recent",))
    assert "unchanged  mps_borough_recent: same SHA-256" in r.output
    assert archived(env) == files


def test_changed_file_is_downloaded_again_and_ingested(env, server):
    assert run(env).exit_code == 0
    total = first_count(env)
    server.routes[MPS_PATH].update(body=mps_slice(bump=7), etag='"mps-2"')
    r = run(env)
    assert r.exit_code == 0, r.output
    assert "downloaded mps_borough_recent" in r.output and "unchanged  police_uk_street" in r.output
    assert first_count(env) == total + 7  # the revised figure replaced the old one
    mps = [f for f in archived(env) if f.startswith("mps_borough_recent/")]
    assert len(mps) == 2  # both releases kept: the archive accumulates
    manifest = json.loads((env["archive"] / "manifest.json").read_text())["downloads"]
    assert manifest["mps_borough_recent"]["etag"] == '"mps-2"'
    assert len(manifest["mps_borough_recent"]["releases"]) == 1


def test_truncated_download_is_resumed_with_a_range_request(env, server):
    server.routes[ZIP_PATH]["truncate"] = 1
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 0, r.output
    reqs = server.requests_to(ZIP_PATH)
    assert len(reqs) == 2 and "Range" not in reqs[0]
    half = len(police_zip()) // 2
    assert reqs[1]["Range"] == f"bytes={half}-" and reqs[1]["If-Range"] == '"zip-1"'
    assert "police_uk_street/city-of-london/2023-01-city-of-london-street.csv.gz" in archived(env)
    assert any(row[1] == "police_uk_street" for row in loads(env))


def test_interrupted_download_is_kept_and_resumed_by_the_next_run(env, server):
    server.routes[ZIP_PATH]["truncate"] = 1
    before = loads(env)
    r = run(env, "--retries", "0", only=("police_uk_street",))
    assert r.exit_code == 2
    assert "interrupted after" in r.output and "run vru fetch again to resume" in r.output
    assert "Traceback" not in r.output
    assert loads(env) == before
    assert [f for f in archived(env) if not f.startswith(".parts/")] == []
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 0, r.output
    assert "Range" in server.requests_to(ZIP_PATH)[-1]
    assert any(row[1] == "police_uk_street" for row in loads(env))


def test_server_ignoring_range_is_read_again_from_the_start(env, server):
    server.routes[ZIP_PATH].update(truncate=1, ignore_range=True)
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 0, r.output
    got = gzip.decompress((env["archive"] / "police_uk_street/city-of-london/"
                           "2023-02-city-of-london-street.csv.gz").read_bytes())
    assert got == zipfile.ZipFile(io.BytesIO(police_zip())).read("2023-02/2023-02-city-of-london-street.csv")


def test_corrupted_zip_is_refused_and_nothing_is_stored(env, server):
    body = bytearray(police_zip())
    body[200:260] = bytes(60)  # damage the first member's compressed data (its CRC fails)
    server.routes[ZIP_PATH]["body"] = bytes(body)
    before = loads(env)
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 2
    assert "damaged in the ZIP" in r.output and "nothing was stored" in r.output
    assert loads(env) == before
    assert archived(env) == []


def test_not_a_zip_is_refused(env, server):
    server.routes[ZIP_PATH]["body"] = b"<html>Service unavailable</html>"
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 2 and "not a valid ZIP file" in r.output
    assert archived(env) == []


def test_a_page_instead_of_the_csv_is_refused(env, server):
    server.routes[MPS_PATH]["body"] = b"<!DOCTYPE html><html><body>Moved</body></html>\n"
    before = loads(env)
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2 and "not the expected format" in r.output
    assert loads(env) == before and archived(env) == []


def test_server_error_is_reported_plainly(env, server):
    server.routes[MPS_PATH]["status"] = 500
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    assert "answered HTTP 500" in r.output and "Traceback" not in r.output
    assert archived(env) == []


def test_no_network_closed_port(env, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env["sources"].write_text(f'mps_borough_recent = "http://127.0.0.1:{port}/x.csv"\n')
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach 127.0.0.1:{port}")
    assert "no network" in lines[0]


def test_no_network_unresolvable_host(env):
    env["sources"].write_text('mps_borough_recent = "http://data.invalid/x.csv"\n')
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [r.output.strip()]
    assert r.output.startswith("error: cannot reach data.invalid")


@pytest.mark.parametrize("text, message", [
    ('nope = "http://example.org/x.csv"\n', "unknown source key 'nope'"),
    ('mps_borough_recent = "ftp://example.org/x.csv"\n', "is not an http(s) address"),
    ("mps_borough_recent = 3\n", "must be a quoted string"),
    ("mps_borough_recent = \n", "not valid TOML"),
])
def test_sources_file_is_validated(env, text, message):
    env["sources"].write_text(text)
    r = run(env)
    assert r.exit_code == 2
    assert message in r.output and str(env["sources"]) in r.output


def test_missing_datastore_resource_is_named(env, server):
    server.routes["/api/dataset/recorded_crime_summary"]["body"] = b'{"resources": {}}'
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    assert f"no resource titled '{MPS_TITLE}'" in r.output


def test_without_a_force_police_uk_is_skipped(env, server):
    args = ["fetch", "--warehouse", str(env["wh"]), "--archive", str(env["archive"]),
            "--sources", str(env["sources"]), "--only", "police_uk_street"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0 and "skipped    police_uk_street: no --police-force given" in r.output
    assert server.requests_to(ZIP_PATH) == []


def test_no_warehouse_is_refused_before_downloading(env, server, tmp_path):
    args = ["fetch", "--warehouse", str(tmp_path / "none.duckdb"), "--archive", str(env["archive"]),
            "--sources", str(env["sources"])]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and "run `vru init` first" in r.output
    assert server.log == []


def test_workbook_from_the_datastore_is_verified_and_ingested(env, server):
    xlsx = (bundled_dir() / "imd2019" / "London_wards_id2019_summary_measures.xlsx").read_bytes()
    server.routes["/api/dataset/indices-of-deprivation"] = {"body": json.dumps({"resources": [
        {"title": "ID 2019 for London.xlsx", "format": "spreadsheet",
         "url": "/download/indices-of-deprivation/9e/ID%202019%20for%20London.xlsx"}]}).encode()}
    server.routes["/download/indices-of-deprivation/9e/ID%202019%20for%20London.xlsx"] = {"body": xlsx}
    env["sources"].write_text(
        f'iod2019_london = "{server.base}/api/dataset/indices-of-deprivation"\n')
    r = run(env, only=("iod2019_london",))
    assert r.exit_code == 0, r.output
    assert any(row[1] == "iod2019_ward" for row in loads(env))
    # a ZIP that is no workbook is refused
    server.routes["/download/indices-of-deprivation/9e/ID%202019%20for%20London.xlsx"] = {
        "body": police_zip(), "etag": '"other"'}
    before = archived(env)
    r = run(env, only=("iod2019_london",))
    assert r.exit_code == 2 and "not the expected format" in r.output
    assert archived(env) == before


def test_refused_ingest_keeps_the_files_and_the_next_run_retries(env, server):
    body = mps_slice().replace(b"BURGLARY,", b"BURGLARY OF A SPACESHIP,", 1)
    assert body != mps_slice()
    server.routes[MPS_PATH]["body"] = body
    before = loads(env)
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    assert "kept in" in r.output and "--category-map YOUR_MAP.csv" in r.output
    assert loads(env) == before
    manifest = json.loads((env["archive"] / "manifest.json").read_text())["downloads"]
    assert [f["ingested"] for f in manifest["mps_borough_recent"]["files"]] == [False]
    # the pending file is retried (and refused again) even though nothing new was downloaded
    r = run(env, only=("mps_borough_recent",))
    assert "unchanged  mps_borough_recent" in r.output and "were not ingested" in r.output


def test_no_ingest_then_a_later_fetch_ingests_what_is_pending(env, server):
    r = run(env, "--no-ingest", only=("mps_borough_recent",))
    assert r.exit_code == 0 and loads(env) == []
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0 and "unchanged  mps_borough_recent" in r.output
    assert any(row[1] == "mps_borough_coarse" for row in loads(env))


def test_progress_is_reported_in_bytes(env, server):
    from vru.sources import fetch as f

    seen = []

    class Bar:
        def __init__(self, label, total):
            self.n = 0
            seen.append([label, total, self])

        def update(self, n):
            self.n += n

        def close(self):
            pass

    out = f.fetch(env["archive"], only=["mps_borough_recent"], progress=Bar,
                  overrides=f.read_overrides(env["sources"]))
    assert [o.status for o in out] == ["downloaded"]
    (label, total, bar), = seen
    assert label == "mps_borough_recent" and total == bar.n == len(mps_slice())


def test_a_file_changed_between_two_runs_is_not_spliced(env, server):
    server.routes[ZIP_PATH]["truncate"] = 1
    assert run(env, "--retries", "0", only=("police_uk_street",)).exit_code == 2
    new = police_zip(rows=90)
    server.routes[ZIP_PATH].update(body=new, etag='"zip-2"')
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 0, r.output
    last = server.requests_to(ZIP_PATH)[-1]
    assert last["If-Range"] == '"zip-1"'  # the server saw the old validator and sent the whole file
    got = gzip.decompress((env["archive"] / "police_uk_street/city-of-london/"
                           "2023-01-city-of-london-street.csv.gz").read_bytes())
    assert got == zipfile.ZipFile(io.BytesIO(new)).read("2023-01/2023-01-city-of-london-street.csv")


def test_a_new_force_fetches_the_archive_again(env, server):
    assert run(env, only=("police_uk_street",)).exit_code == 0
    n = len(server.requests_to(ZIP_PATH))
    r = run(env, "--police-force", "metropolitan", only=("police_uk_street",))
    assert r.exit_code == 0, r.output
    assert len(server.requests_to(ZIP_PATH)) == n + 1
    assert "If-None-Match" not in server.requests_to(ZIP_PATH)[-1]
    assert "no street files for force 'metropolitan'" in r.output


@pytest.mark.parametrize("args, message", [
    (["--month", "2024-13"], "--month '2024-13'"),
    (["--police-force", "Metropolitan Police"], "--police-force 'Metropolitan Police'"),
    (["--only", "mps"], "unknown source key 'mps'"),
])
def test_bad_arguments_are_refused_plainly(env, server, args, message):
    r = run(env, *args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert server.log == []


def test_every_download_key_is_documented():
    from vru.sources.catalogue import DOWNLOADS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "fetch.md").read_text()
    assert [d.key for d in DOWNLOADS if f"`{d.key}`" not in doc] == []


def test_terminal_progress_bar(capsys):
    from vru.fetch_cli import _Bar

    bar = _Bar("mps_borough_recent", None)  # no Content-Length: a byte count
    bar.update(1500)
    bar.close()
    assert "mps_borough_recent  1,500 bytes" in capsys.readouterr().err
    bar = _Bar("police_uk_street", 100)
    bar.update(100)
    bar.close()
    assert "police_uk_street" in capsys.readouterr().err
