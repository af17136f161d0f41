"""``vru fetch`` on the cases a review found: a new MPS category (a user category map, a file ingested
by hand), every layout the loaders read, hostile answers (odd headers, encrypted or unreadable ZIP
members, oversized bodies, damaged or unverifiable downloads, redirects, hostile addresses). The local
loopback server and the recorded files are those of ``test_fetch_cli``; nothing touches the internet."""

from __future__ import annotations

import io
import json
import socket
import zipfile

import pytest
from click.testing import CliRunner

import test_fetch_cli as base
from test_fetch_cli import MPS_PATH, ZIP_PATH, archived, loads, mps_slice, police_zip, run
from vru.cli import main
from vru.sources import fetch as F

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


# ---------------------------------------------------------------------------- hostile answers


def zip_with_flags(flag: int = 0, method: int | None = None) -> bytes:
    """A one-member data.police.uk-style ZIP with its general-purpose flag (1: encrypted) or its
    compression method (99: one zipfile cannot read) changed in both headers."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("2023-01/2023-01-city-of-london-street.csv", "Crime ID,Month\n")
    raw = bytearray(buf.getvalue())
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    raw[local + 6] |= flag
    raw[central + 8] |= flag
    if method is not None:
        raw[local + 8] = raw[central + 10] = method
    return bytes(raw)


def outcome_lines(r) -> dict[str, str]:
    return {line.split()[1].rstrip(":"): line for line in r.output.splitlines()
            if line.split() and line.split()[0] in ("downloaded", "failed", "unchanged")}


@pytest.mark.parametrize("flag, method, message", [
    (1, None, "is encrypted"), (0, 99, "compression method is not supported")])
def test_an_unreadable_zip_member_is_a_refused_download_and_the_run_goes_on(env, server, flag,
                                                                            method, message):
    server.routes[ZIP_PATH]["body"] = zip_with_flags(flag, method)
    r = run(env)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert message in r.output and "cannot be unpacked" in r.output
    assert "downloaded mps_borough_recent" in r.output  # the other source went on
    assert not (env["archive"] / "police_uk_street").exists()


def test_a_non_ascii_content_length_is_refused(env, server):
    server.routes[MPS_PATH]["headers"] = {"Content-Length": "\u00b2"}
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "invalid Content-Length" in r.output
    assert not (env["archive"] / "mps_borough_recent").exists()


def test_a_download_over_the_limit_is_refused(env, server):
    server.routes[MPS_PATH]["body"] = mps_slice() + b"\r\n" * (1 << 20)  # about 2 MiB
    r = run(env, "--max-download", "0.001", only=("mps_borough_recent",))
    assert r.exit_code == 2 and "over the limit of 1,073,741" in r.output
    assert not (env["archive"] / "mps_borough_recent").exists()
    assert not (env["archive"] / ".parts").exists()
    r = run(env, "--no-ingest", only=("mps_borough_recent",))  # the default limit lets it through
    assert r.exit_code == 0 and "downloaded mps_borough_recent" in r.output, r.output


def test_a_zip_bomb_member_is_refused(env, server, monkeypatch):
    monkeypatch.setattr(F, "MAX_MEMBER", 1 << 20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("2023-01/2023-01-city-of-london-street.csv", b"Crime ID,Month\n" + b"\n" * (3 << 20))
    assert len(buf.getvalue()) < 20_000  # 3 MiB unpacked from a few kilobytes
    server.routes[ZIP_PATH]["body"] = buf.getvalue()
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 2 and "bytes unpacked, over the limit of 1,048,576" in r.output
    assert archived(env) == []


def test_the_unpacked_total_is_capped(env, server, monkeypatch):
    month = "2023-01/2023-01-city-of-london-street.csv"
    one = len(zipfile.ZipFile(io.BytesIO(police_zip())).read(month))
    monkeypatch.setattr(F, "MAX_UNPACKED", one + 10)  # the first month fits, not the second
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 2 and "the archive's street files unpacks to more than" in r.output
    assert archived(env) == []


def test_an_oversized_dataset_description_is_refused(env, server, monkeypatch):
    monkeypatch.setattr(F, "MAX_JSON", 100)
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2 and "dataset description is larger than 100 bytes" in r.output


# ---------------------------------------------------------------------------- damaged downloads


def test_a_body_whose_end_cannot_be_checked_is_refused(env, server):
    server.routes[MPS_PATH].update(no_length=True, truncate=1)
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2
    assert "neither a Content-Length nor a chunked body" in r.output
    assert archived(env) == []  # nothing kept, not even a part
    assert not (env["archive"] / ".parts").exists()


def test_without_a_validator_an_interrupted_download_restarts_from_zero(env, server):
    server.routes[MPS_PATH].pop("etag")
    server.routes[MPS_PATH].update(no_modified=True, truncate=1)
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    reqs = server.requests_to(MPS_PATH)
    assert len(reqs) == 2 and "Range" not in reqs[1]  # not resumed: nothing to guard a splice
    assert (env["archive"] / f"mps_borough_recent/{F.datetime.now(F.UTC):%Y-%m-%d}/"
            f"{base.MPS_TITLE}").read_bytes() == mps_slice()


def test_a_refused_download_leaves_no_validator_for_the_next_run(env, server):
    server.routes[MPS_PATH]["body"] = b"<html>busy</html>\n"
    assert run(env, only=("mps_borough_recent",)).exit_code == 2
    server.routes[MPS_PATH]["body"] = mps_slice()  # same ETag: a broken server, or a proxy
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 0, r.output
    assert "If-None-Match" not in server.requests_to(MPS_PATH)[-1]
    assert "downloaded mps_borough_recent" in r.output


# ---------------------------------------------------------------------------- redirects, names


def test_only_http_redirects_are_followed(env, server):
    server.routes[MPS_PATH] = {"body": b"", "redirect": "ftp://127.0.0.1:1/x.csv"}
    r = run(env, only=("mps_borough_recent",))
    assert r.exit_code == 2 and "only http(s) redirects are followed" in r.output


def test_a_redirect_to_an_unreachable_host_fails_that_source_only(env, server):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server.routes[MPS_PATH] = {"body": b"", "redirect": f"http://127.0.0.1:{port}/x.csv"}
    r = run(env)
    assert r.exit_code == 2
    lines = outcome_lines(r)
    assert lines["mps_borough_recent"].startswith("failed") and "cannot be reached" in r.output
    assert lines["police_uk_street"].startswith("downloaded")


def test_an_address_ending_in_an_escaping_name_is_refused(env, server, tmp_path):
    server.routes["/x/..%2F..%2Fescaped.zip"] = {"body": police_zip()}
    env["sources"].write_text(f'police_uk_street = "{server.base}/x/..%2F..%2Fescaped.zip"\n')
    r = run(env, only=("police_uk_street",))
    assert r.exit_code == 2 and "does not end in a plain file name" in r.output
    assert list(tmp_path.rglob("escaped.zip")) == []
    assert server.requests_to("/x/..%2F..%2Fescaped.zip") == []  # refused before downloading


@pytest.mark.parametrize("url, ok", [
    ("http://h/a/file.csv", True), ("http://h/a/MPS%20Borough.csv", True),
    ("http://h/a/", False), ("http://h/a/..", False), ("http://h/a/%2E%2E", False),
    ("http://h/a/x%2Fy.csv", False), ("http://h/a/x%5Cy.csv", False), ("http://h/a/x%0Ay.csv", False),
])
def test_safe_name(url, ok):
    if ok:
        assert "/" not in F.safe_name(url)
    else:
        with pytest.raises(F.FetchError, match="plain file name"):
            F.safe_name(url)
