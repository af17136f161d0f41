"""The warehouse: one embedded DuckDB file holding the canonical tables of :mod:`vru.schema`.

Writing rules
-------------
- Every file is read and validated completely by its loader *before* the warehouse is touched.
- All batches of one ``ingest`` call are written in a single transaction: either every file is
  stored or none is (a failure rolls back; nothing already stored is lost).
- A batch replaces what it restates (:data:`vru.schema.REPLACE_SCOPE`): rows with the same
  natural key, and for crime panels every stored row of the same source, level and month. So
  loading the same file twice changes nothing, and a newer release of a source revises the figures
  it re-publishes (including counts revised to zero). Within one call the ingest orders
  releases of a source oldest first (:func:`vru.warehouse.ingest.order_releases`).
- Each loaded file is recorded in ``loads`` with its SHA-256, the rows it contributed (its own
  rows: when one engine pass reads many files, each stored row is credited to exactly one of them,
  so the files' counts add up to the rows stored) and the user category map it was read with (name
  and SHA-256; see :func:`vru.taxonomy.read_user_map`). A file whose exact bytes were already loaded
  with the same map (or with none, both times) is skipped; the same file with another map is read
  again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from vru.errors import WarehouseError
from vru.schema import REPLACE_SCOPE, TABLES, Batch

ENV_VAR = "VRU_WAREHOUSE"

_SQL_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "datetime64[ns]": "TIMESTAMP",
    "object": "BLOB",
}


def default_path() -> Path:
    """``$VRU_WAREHOUSE``, else ``$XDG_DATA_HOME/vru/warehouse.duckdb`` (~/.local/share/...)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vru" / "warehouse.duckdb"


def _connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file; another process holding it (DuckDB allows one writer process, or
    readers only) is reported plainly, naming the file, instead of DuckDB's lock traceback."""
    # a file of something else is refused (DuckDB would open a short one as an empty database in memory)
    not_duckdb = WarehouseError(f"{path} is not a VRU warehouse (not a DuckDB database file)")
    if path.is_file() and path.stat().st_size and _magic(path) != b"DUCK":
        raise not_duckdb
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as e:
        if path.is_file() and _magic(path) != b"DUCK":
            raise not_duckdb from None
        if not isinstance(e, duckdb.IOException) or "lock" not in str(e).lower():
            raise
        holder = ""
        m = re.search(r"\(PID (\d+)\)", str(e))
        if m:
            holder = f" (process {m.group(1)})"
        raise WarehouseError(
            f"the warehouse {path} is in use by another process{holder}, e.g. another vru "
            "ingest, fetch or analysis: wait for it to finish and run this again") from None


def _magic(path: Path) -> bytes:
    """Bytes 8 to 11 of a file: ``DUCK`` in a DuckDB database file."""
    with open(path, "rb") as f:
        return f.read(12)[8:]


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class LoadRecord:
    """One file to record in ``loads``: the batch it gave (tables may be empty when a multi-file
    batch is recorded under its first file), its SHA-256, its own row count (default: the batch's)
    and the user category map it was read with."""

    batch: Batch
    sha256: str
    rows: int | None = None
    category_map: str | None = None  # file name of the user category map
    category_map_sha256: str | None = None

    @property
    def row_count(self) -> int:
        return self.batch.rows() if self.rows is None else self.rows


LOADS_COLUMNS = (
    ("sha256", "VARCHAR PRIMARY KEY"),
    ("path", "VARCHAR"),
    ("source", "VARCHAR"),
    ("rows", "BIGINT"),
    ("loaded_at", "TIMESTAMP"),
    ("notes", "VARCHAR"),
    ("category_map", "VARCHAR"),
    ("category_map_sha256", "VARCHAR"),
)


@dataclass
class FileResult:
    path: str
    source: str
    status: str  # "loaded" | "unchanged" | "duplicate" (same bytes as an earlier file of the call)
    rows: int
    notes: list[str]


class Warehouse:
    """A DuckDB warehouse file. Use :meth:`create` for a new one, :meth:`open` for an existing one."""

    def __init__(self, path: str | Path, con: duckdb.DuckDBPyConnection):
        self.path = Path(path)
        self.con = con

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path | None = None, *, replace: bool = False) -> Warehouse:
        """Create (or, with ``replace``, recreate) a warehouse with every canonical table."""
        p = Path(path) if path is not None else default_path()
        if replace:
            for f in (p, p.with_name(p.name + ".wal")):
                if f.exists():
                    f.unlink()
        p.parent.mkdir(parents=True, exist_ok=True)
        wh = cls(p, _connect(p))
        wh._ensure_schema()
        return wh

    @classmethod
    def open(cls, path: str | Path | None = None, *, read_only: bool = False) -> Warehouse:
        p = Path(path) if path is not None else default_path()
        if not p.exists():
            raise WarehouseError(
                f"no warehouse at {p}: run `vru init` first (or set --warehouse / ${ENV_VAR})"
            )
        wh = cls(p, _connect(p, read_only))
        have = set(wh.tables())
        if "loads" not in have:
            wh.close()
            raise WarehouseError(f"{p} is not a VRU warehouse (it has no 'loads' table)")
        if set(TABLES) - have or not wh._loads_current():
            # a warehouse made by an earlier version: add the tables introduced since (additive
            # only; nothing stored is changed)
            wh.close()
            with cls(p, _connect(p)) as rw:
                rw._ensure_schema()
            wh = cls(p, _connect(p, read_only))
        return wh

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ensure_schema(self) -> None:
        for name, cols in TABLES.items():
            body = ", ".join(f'"{c}" {_SQL_TYPES[t]}' for c, t in cols)
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
        body = ", ".join(f"{c} {t}" for c, t in LOADS_COLUMNS)
        self.con.execute(f"CREATE TABLE IF NOT EXISTS loads ({body})")
        # warehouses made before the category-map columns: add them (NULL = no user map)
        for c, t in LOADS_COLUMNS:
            if "PRIMARY" not in t:
                self.con.execute(f"ALTER TABLE loads ADD COLUMN IF NOT EXISTS {c} {t}")

    def _loads_current(self) -> bool:
        cols = {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'loads'"
        ).fetchall()}
        return {c for c, _ in LOADS_COLUMNS} <= cols

    # -- reading ---------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return [r[0] for r in self.con.execute("SHOW TABLES").fetchall()]

    def sql(self, query: str, params: Sequence | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        return self.con.execute(query, params or []).df()

    def table(self, name: str) -> pd.DataFrame:
        if name not in (*TABLES, "loads"):
            raise WarehouseError(f"unknown table {name!r}")
        return self.sql(f"SELECT * FROM {name}")

    def counts(self) -> dict[str, int]:
        return {t: self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def fingerprint(self) -> dict[str, str]:
        """A content hash per table (order-independent): equal fingerprints = equal contents."""
        out = {}
        for t, cols in TABLES.items():
            expr = " || '|' || ".join(
                f"coalesce(CAST(md5(CAST(\"{c}\" AS VARCHAR)) AS VARCHAR), 'null')" for c, _ in cols
            )
            row = self.con.execute(
                f"SELECT count(*), coalesce(sum(hash({expr})), 0) FROM {t}"
            ).fetchone()
            out[t] = f"{row[0]}:{row[1]}"
        return out

    # -- writing ---------------------------------------------------------------------------
    def loaded(self, sha: str, category_map_sha256: str | None = None) -> bool:
        """True if the file with this SHA-256 was loaded with this user category map (its
        SHA-256; ``None``: no map)."""
        return bool(self.con.execute(
            "SELECT 1 FROM loads WHERE sha256 = ? AND category_map_sha256 IS NOT DISTINCT FROM ?",
            [sha, category_map_sha256]).fetchall())

    def write(self, batches: Iterable[LoadRecord | tuple[Batch, str]]) -> None:
        """Store batches (each with its file's SHA-256) in one transaction: all or nothing."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for item in batches:
                rec = item if isinstance(item, LoadRecord) else LoadRecord(*item)
                batch = rec.batch
                for table, df in batch.tables.items():
                    if table not in TABLES:
                        raise WarehouseError(f"loader returned unknown table {table!r}")
                    if df.empty:
                        continue
                    self._upsert(table, df)
                cols = ", ".join(c for c, _ in LOADS_COLUMNS)
                con.execute(
                    f"INSERT OR REPLACE INTO loads ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [rec.sha256, batch.path, batch.source, rec.row_count,
                     datetime.now(UTC).replace(tzinfo=None), "\n".join(batch.notes),
                     rec.category_map, rec.category_map_sha256],
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _upsert(self, table: str, df: pd.DataFrame) -> None:
        cols = [c for c, _ in TABLES[table]]
        scope = REPLACE_SCOPE[table]
        view = f"_batch_{table}"
        if hasattr(df, "select_sql"):  # a table left on disk (engine.ParquetPanel): stream it in
            self._upsert_query(table, df.select_sql(), cols, scope)
            return
        self.con.register(view, df[cols])
        try:
            match = " AND ".join(f't."{k}" = b."{k}"' for k in scope)
            self.con.execute(
                f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {view} b WHERE {match})"
            )
            collist = ", ".join(f'"{c}"' for c in cols)
            self.con.execute(f"INSERT INTO {table} ({collist}) SELECT {collist} FROM {view}")
        finally:
            self.con.unregister(view)

    def _upsert_query(self, table: str, query: str, cols: list[str], scope) -> None:
        """:meth:`_upsert` from a DuckDB query (Parquet files): the rows are streamed from disk
        into the table, never held in Python. What the batch restates is deleted first, matched
        on the distinct scope keys (a few thousand for a national panel) rather than every row."""
        keys = ", ".join(f'"{k}"' for k in scope)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _batch_scope AS SELECT DISTINCT {keys} "
                         f"FROM ({query})")
        try:
            match = " AND ".join(f't."{k}" = b."{k}"' for k in scope)
            self.con.execute(
                f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _batch_scope b WHERE {match})")
            collist = ", ".join(f'"{c}"' for c in cols)
            self.con.execute(f"INSERT INTO {table} ({collist}) SELECT {collist} FROM ({query})")
        finally:
            self.con.execute("DROP TABLE IF EXISTS _batch_scope")
