"""What the pages and commands of the tagging app do, on top of the analysis layer (``vru.tagging``).

Nothing here re-implements the analysis: batches are checked by ``crimes.parse_batch``, versions made by
``crimes.new_versions``, matches found by ``matching.match`` over the positions store, zones built by
``zones.zone_from_geojson`` / ``zones.Schedule``, breaches found by ``zones.detect_breaches``, and the
retention purge done by ``store.purge``. This module moves records between those and the database.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import Error as DjangoDbError
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q, Sum, Value
from django.db.models.functions import Now
from django.utils import timezone
from pyproj import Transformer
from shapely.geometry import Point

from vru import format as F
from vru.tagging import crimes as tcrimes
from vru.tagging import matching, store, zones
from vru.tagging import schema as S

from .models import (
    MAX_DISTANCE_M,
    MAX_PRECISION_M,
    MAX_SPEED_KMH,
    BatchError,
    Breach,
    Crime,
    CrimeBatch,
    CrimeVersion,
    DeviceActivation,
    ForceOrganisation,
    Match,
    MatchPoint,
    MatchRun,
    PositionImport,
    PositionReceipt,
    Wearer,
    Zone,
)

log = logging.getLogger(__name__)
_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


# ------------------------------------------------------------------------------------------- store
def store_root() -> Path:
    """The positions store folder (``settings.VRU_TAGGING_STORE``), created readable by its owner only."""
    root = Path(settings.VRU_TAGGING_STORE)
    if not root.exists():
        root.mkdir(parents=True, mode=0o700)
    os.chmod(root, 0o700)
    return root


def force_of(user) -> str | None:
    """The police force of the user's organisation (ForceOrganisation), or None."""
    org = getattr(user, "organisation_id", None)
    if org is None:
        return None
    fo = ForceOrganisation.objects.filter(organisation_id=org).first()
    return fo.force if fo else None


class ActivationOverlap(ValueError):
    """Two activations of one device overlap: a fix would be attributed to two wearers."""


def activations_frame(wearers=None) -> pd.DataFrame:
    """Device activations (schema.ACTIVATIONS columns) from the database. Refuses (ActivationOverlap)
    activations of one device that overlap in time, among these wearers' devices' activations of any
    wearer: the model's clean refuses them on entry, this guards rows written another way."""
    qs = DeviceActivation.objects.select_related("wearer")
    if wearers is not None:
        qs = qs.filter(wearer__in=wearers)
    acts = list(qs)
    devices = {a.device_id for a in acts}
    every = DeviceActivation.objects.select_related("wearer").order_by("device_id", "active_from")
    if wearers is not None:
        every = every.filter(device_id__in=devices)
    prev = None
    for a in every:
        if prev is not None and prev.device_id == a.device_id and (prev.active_to is None
                                                                   or prev.active_to > a.active_from):
            raise ActivationOverlap(f"device {a.device_id}: the activation of {prev.wearer.ref} from "
                                    f"{prev.active_from.isoformat()} overlaps that of {a.wearer.ref} from "
                                    f"{a.active_from.isoformat()}; correct the activations first")
        prev = a
    rows = [(a.device_id, a.wearer.ref, a.active_from, a.active_to) for a in acts]
    df = pd.DataFrame(rows, columns=[S.DEVICE_ID, S.WEARER_REF, S.ACTIVE_FROM, S.ACTIVE_TO])
    for c in (S.ACTIVE_FROM, S.ACTIVE_TO):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    return df


def import_positions(path, *, activations=None):
    """Validate a supplier feed and add it to the store (``positions.import_positions``, all or nothing),
    and record the import with the fixes it added per order type and month (:class:`PositionReceipt`).

    The counts are computed before the store's commit point and committed **with the fixes**, as the
    store transaction's receipt (``store.write_positions``' ``receipt``); the database record is then
    written from that receipt, keyed by the store transaction (``PositionImport.store_tx``, unique). A
    database failure after the store's commit leaves the receipt pending in the store, and the next import
    (or ``tagging_record_receipts``) records it first: the fixes stored and the fixes counted never
    diverge. A feed refused or a store write that fails leaves nothing. Returns (the PositionImport, the
    ImportResult)."""
    from vru.tagging import positions

    acts = activations_frame() if activations is None else activations
    root = store_root()
    record_receipts()
    types = dict(Wearer.objects.values_list("ref", "order_type"))
    name = Path(path).name[:255]

    def receipt(new_fixes) -> dict:
        counts = received_by_type_month(new_fixes, acts=acts, types=types)
        return {"file_name": name, "at": timezone.now().isoformat(),
                "counts": [[str(t), str(m), int(n)] for t, m, n in counts.itertuples(index=False)]}

    r = positions.import_positions(path, acts, root, receipt=receipt)
    if r.receipt is None:  # nothing added: nothing counted, nothing that could diverge
        rec = PositionImport.objects.create(file_name=name, rows=r.rows, added=0, duplicates=r.duplicates)
    else:
        rec = _record_receipt(r.receipt)
    return rec, r


def _record_receipt(doc: dict) -> PositionImport:
    """Record one store receipt in the database, once (keyed by its store transaction), then clear it."""
    from django.db import IntegrityError

    txid = str(doc["txid"])
    try:
        with transaction.atomic():
            rec = PositionImport.objects.filter(store_tx=txid).first()
            if rec is None:
                rec = PositionImport.objects.create(
                    store_tx=txid, file_name=str(doc.get("file_name", ""))[:255], rows=int(doc["rows"]),
                    added=int(doc["added"]), duplicates=int(doc["duplicates"]))
                if doc.get("at"):
                    PositionImport.objects.filter(pk=rec.pk).update(imported_at=datetime.fromisoformat(doc["at"]))
                PositionReceipt.objects.bulk_create(
                    PositionReceipt(position_import=rec, order_type=t, month=m, n=int(n))
                    for t, m, n in doc.get("counts", []) if int(n) > 0)
    except IntegrityError:  # recorded at the same moment by another process
        rec = PositionImport.objects.get(store_tx=txid)
    store.clear_receipt(store_root(), txid)
    return rec


def record_receipts() -> int:
    """Record every receipt the store holds that the database has not (an import whose database write
    failed after the store's commit). Returns how many receipts were pending."""
    pending = store.pending_receipts(store_root())
    for doc in pending:
        _record_receipt(doc)
    return len(pending)


def received_by_type_month(fixes, *, acts: pd.DataFrame | None = None,
                           types: dict[str, str] | None = None) -> pd.DataFrame:
    """Fixes per order type of the wearer who wore the device then, and month of the fix (UTC):
    columns order_type, month, n. ``fixes``: a pyarrow table (device_id, fix_time) or the SQL text of a
    DuckDB relation with those columns; ``acts`` (schema.ACTIVATIONS) and ``types`` (wearer ref -> order
    type) default to the database's. A fix outside every activation is not counted (the import refuses
    those)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    acts = activations_frame() if acts is None else acts
    acts = acts.to_pandas() if isinstance(acts, pa.Table) else acts.copy()
    if acts.empty:
        return pd.DataFrame(columns=["order_type", "month", "n"])
    if types is None:
        types = dict(Wearer.objects.values_list("ref", "order_type"))
    acts["order_type"] = acts[S.WEARER_REF].map(types)
    acts = acts[[S.DEVICE_ID, "order_type", S.ACTIVE_FROM, S.ACTIVE_TO]]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("acts", acts)
        if isinstance(fixes, pa.Table):
            dev = fixes[S.DEVICE_ID]
            if pa.types.is_dictionary(dev.type):
                dev = pc.cast(dev, pa.string())
            con.register("fixes", pa.table({S.DEVICE_ID: dev, S.FIX_TIME: fixes[S.FIX_TIME]}))
            source = "fixes"
        else:
            source = fixes
        return con.sql(f"""
            SELECT a.order_type, strftime(p.fix_time, '%Y-%m') AS month, count(*) AS n
            FROM {source} p JOIN acts a ON p.device_id = a.device_id
             AND p.fix_time >= a.active_from AND (a.active_to IS NULL OR p.fix_time < a.active_to)
            WHERE a.order_type IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2""").df()
    finally:
        con.close()


def positions_frame(start, end, devices=None) -> pd.DataFrame:
    """Fixes with start <= fix_time < end from the store, as pandas."""
    return store.read_positions(store_root(), start, end, devices=devices).to_pandas()


def trail_frame(wearer: Wearer, start, end) -> pd.DataFrame:
    """The wearer's fixes with start <= fix_time < end: only fixes of a device inside this wearer's
    activation of it (active_from <= fix_time < active_to), never the fixes the same device recorded
    while another wearer wore it."""
    acts = [a for a in wearer.activations.all()
            if a.active_from < end and (a.active_to is None or a.active_to > start)]
    df = positions_frame(start, end, devices=[a.device_id for a in acts] or ["-"])
    if df.empty:
        return df
    keep = pd.Series(False, index=df.index)
    for a in acts:
        ok = (df[S.DEVICE_ID] == a.device_id) & (df[S.FIX_TIME] >= pd.Timestamp(a.active_from))
        if a.active_to is not None:
            ok &= df[S.FIX_TIME] < pd.Timestamp(a.active_to)
        keep |= ok
    return df[keep].reset_index(drop=True)


# ----------------------------------------------------------------------------------------- batches
class BatchRefused(ValueError):
    """A batch that may not be taken from this user (another force's batch)."""


def _versions_held(keys: set[tuple[str, str]]) -> pd.DataFrame | None:
    """The versions held of these (force, crime ref) pairs, in new_versions' columns."""
    if not keys:
        return None
    rows = []
    for force, ref in keys:
        for v in CrimeVersion.objects.filter(crime__force=force, crime__crime_ref=ref):
            rows.append({S.CRIME_VERSION_ID: v.version_id, S.FORCE: force, S.CRIME_REF: ref,
                         "version": v.version, S.CRIME_TYPE: v.crime_type, S.TIME_FROM: v.time_from,
                         S.TIME_TO: v.time_to, "submitted_easting": v.submitted_easting,
                         "submitted_northing": v.submitted_northing, "latitude": v.latitude,
                         "longitude": v.longitude, "crime_text": v.text})
    return pd.DataFrame(rows) if rows else None


def _text(x, n: int) -> str:
    """Text for a database column: at most ``n`` characters, NUL (which PostgreSQL refuses in text)
    replaced by U+FFFD. A batch may carry anything in its bad rows; their errors must still be kept."""
    return ("" if x is None else str(x)).replace("\x00", "\ufffd")[:n]


def _num(x):
    return None if x is None or pd.isna(x) else float(x)


def ingest_batch(data: bytes, name: str, *, user=None, force: str | None = None,
                 match: bool = True, inline: bool | None = None) -> CrimeBatch:
    """Check a batch file (``crimes.parse_batch``); store the batch, its row errors and (SUCCESSFUL or
    PARTIAL) a new version of every valid row's crime, and, in the same transaction, queue a run of those
    versions (trigger AUTO, status QUEUED) for the matching worker (``tagging_match --pending``).
    ``inline`` (default :func:`match_inline`): execute that run at once, by the worker's code path
    (:func:`run_queued`), raising ``matching.MatchRunError`` if it fails (the failure is on the run).
    ``force``: the uploader's force; a batch of another force is refused (BatchRefused) and nothing is
    written. A FAILED batch is stored with its errors and nothing else."""
    result = tcrimes.parse_batch(data, name=name)
    if force is not None and result.force is not None and result.force != force:
        raise BatchRefused(f"This batch is for the force {result.force}; you may only send batches for "
                           f"{force}.")
    with transaction.atomic():
        batch = CrimeBatch.objects.create(
            file_name=_text(name, 255), force=_text(result.force or force, 40),
            batch_id=_text(result.batch_id, 255), outcome=result.outcome.value,
            record_count=min(result.record_count, 1_000_000),
            file_errors=[_text(e, 1000) for e in result.file_errors], uploaded_by=user)
        BatchError.objects.bulk_create([BatchError(
            batch=batch, row=min(e.row, 1_000_000), line=min(e.line, 1_000_000),
            crime_ref=_text(e.crime_reference, 255), field=_text(e.field, 40), value=_text(e.value, 255),
            code=e.code.name, message=_text(e.message, 255), action=_text(e.required_action, 500))
            for e in result.errors])
        versions = []
        if result.ok and len(result.records):
            keys = {(r.force, r.crime_ref) for r in result.records.itertuples()}
            df = tcrimes.new_versions(_versions_held(keys), result)
            for r in df.to_dict("records"):
                crime, _ = Crime.objects.get_or_create(force=r[S.FORCE], crime_ref=r[S.CRIME_REF])
                versions.append(CrimeVersion.objects.create(
                    crime=crime, version=int(r["version"]), version_id=r[S.CRIME_VERSION_ID], batch=batch,
                    row=int(r["row"]), kind=r["kind"], crime_type=r[S.CRIME_TYPE],
                    time_from=r[S.TIME_FROM].to_pydatetime(), time_to=r[S.TIME_TO].to_pydatetime(),
                    easting=float(r[S.EASTING]), northing=float(r[S.NORTHING]),
                    latitude=_num(r["latitude"]), longitude=_num(r["longitude"]),
                    submitted_easting=_num(r["submitted_easting"]),
                    submitted_northing=_num(r["submitted_northing"]),
                    datum=_text(r["datum"], 40), text=r["crime_text"] or "",
                    changed_fields=list(r["changed_fields"])))
        run = queue_run(versions, trigger="AUTO", batch=batch, user=user) if versions and match else None
    if run is not None and (match_inline() if inline is None else inline):
        run_queued(run.pk)
    return batch


# ---------------------------------------------------------------------------------------- matching
def _versions_frame(versions) -> pd.DataFrame:
    df = pd.DataFrame([{S.CRIME_VERSION_ID: v.version_id, S.CRIME_REF: v.crime.crime_ref,
                        S.FORCE: v.crime.force,
                        S.CRIME_TYPE: v.crime_type, S.TIME_FROM: v.time_from, S.TIME_TO: v.time_to,
                        S.EASTING: v.easting, S.NORTHING: v.northing} for v in versions])
    for c in (S.TIME_FROM, S.TIME_TO):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    return tcrimes.crimes_table(df)


#: how often the process running a run writes the time on it (``MatchRun.heartbeat``), from a thread beside
#: the matching (:class:`RunHeartbeat`): a long run keeps saying it is alive
HEARTBEAT_EVERY = timedelta(seconds=60)

#: a RUNNING run whose heartbeat (its start, if it never beat) is older than this was left by a process
#: that ended (a worker killed for memory, a restart): the next run, or ``tagging_match --fail-stale``, marks
#: it FAILURE. A live run beats every HEARTBEAT_EVERY, so however long it takes it is never marked.
STALE_RUN = timedelta(minutes=15)

#: the longest a run may take: a RUNNING run started longer ago than this is marked FAILURE like a silent
#: one, whatever its heartbeat (a worker hung on a lock keeps beating, and its run would stay RUNNING for
#: ever). The largest batches match in minutes; twelve hours is a run that will not end.
MAX_RUN = timedelta(hours=12)


def _stale_words() -> str:
    return F.plural(STALE_RUN.total_seconds() // 60, "minute")


def _max_run_words() -> str:
    return F.plural(MAX_RUN.total_seconds() // 3600, "hour")


def _db_time_minus(delta: timedelta) -> ExpressionWrapper:
    """The database's clock (``Now()``) less ``delta``: the heartbeat and the cut-off read one clock, so a
    worker host whose clock runs fast or slow neither fails a live run nor keeps a dead one."""
    return ExpressionWrapper(Now() - Value(delta), output_field=DateTimeField())


def fail_stale_runs(now: datetime | None = None) -> int:
    """Mark FAILURE, saying why, the RUNNING runs with no heartbeat for longer than STALE_RUN (no heartbeat
    at all: started longer ago than that), and those started longer ago than MAX_RUN whatever their
    heartbeat. The times are the database's (``Now()``; ``now``: that time instead, for a test). Returns
    how many."""
    def before(delta: timedelta):
        return now - delta if now is not None else _db_time_minus(delta)

    ended = now if now is not None else Now()
    cutoff = before(STALE_RUN)
    silent = Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, started__lt=cutoff)
    failed = MatchRun.objects.filter(silent, status="RUNNING").update(
        status="FAILURE", ended=ended,
        error=f"interrupted: no heartbeat for over {_stale_words()} while RUNNING (the process running it "
              "ended)")
    return failed + MatchRun.objects.filter(started__lt=before(MAX_RUN), status="RUNNING").update(
        status="FAILURE", ended=ended,
        error=f"interrupted: RUNNING for over {_max_run_words()}, the longest a run may take (the process "
              "running it hung)")


def _beat(pk: int) -> bool | None:
    """Write the database's time (``Now()``) as the heartbeat of run ``pk`` if it is still RUNNING: True;
    False: the run is no longer RUNNING (it ended, or another process marked it FAILURE); None: nothing
    written, the run not (yet) seen (its transaction not committed) or the database refusing the write
    (logged, and the connection closed so the next beat opens a new one: Django reconnects only a
    connection it has closed)."""
    try:
        if MatchRun.objects.filter(pk=pk, status="RUNNING").update(heartbeat=Now()) == 1:
            return True
        return False if MatchRun.objects.filter(pk=pk).exists() else None
    except DjangoDbError as exc:  # DatabaseError, and InterfaceError (a connection already closed)
        log.warning("tagging: the heartbeat of run %s was not written: %s", pk, exc)
        if not connection.in_atomic_block:
            try:
                connection.close()
            except DjangoDbError:
                log.warning("tagging: the heartbeat's connection could not be closed", exc_info=True)
        return None


def beat(pk: int) -> bool:
    """Write now (the database's clock) as the heartbeat of run ``pk`` if it is still RUNNING (False if it
    is not, or the write failed). A database error is logged, not raised: a missed beat must not fail the
    run it reports on, and the next beat reconnects."""
    return _beat(pk) is True


class RunLost(Exception):
    """The run was no longer RUNNING when its process came to record it: another process marked it FAILURE
    (a heartbeat missed for STALE_RUN, a run over MAX_RUN), so its matches must not be recorded."""

    def __init__(self, pk: int, status: str | None):
        super().__init__(
            f"run {pk} was marked {status or 'deleted'} by another process while it ran (no heartbeat for "
            f"over {_stale_words()}, or over {_max_run_words()}): its matches were not recorded")


class RunHeartbeat:
    """While a run executes (``with RunHeartbeat(run.pk) as hb: ...``): a daemon thread calls :func:`beat`
    every ``every`` (HEARTBEAT_EVERY) on its own database connection, closed when it stops, so that
    :func:`fail_stale_runs` leaves a live run alone however long it takes. The thread stops when the block
    ends, whether the run succeeded or failed, and when a beat finds the run no longer RUNNING: ``lost``
    is then True, and the run's process must not record it."""

    def __init__(self, pk: int, every: timedelta | None = None):
        self.pk, self.every = pk, every or HEARTBEAT_EVERY
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tagging-run-{pk}-heartbeat", daemon=True)

    def _loop(self) -> None:
        from django.db import connections

        try:
            while not self._stop.wait(self.every.total_seconds()):
                if _beat(self.pk) is False:
                    self.lost = True
                    return
        finally:
            connections.close_all()  # this thread's connections only

    def __enter__(self) -> RunHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def crime_groups(crimes_df: pd.DataFrame, params: matching.Params) -> list[pd.DataFrame]:
    """The crimes in groups close in time: sorted by window, a new group where the next crime's widened
    window (tolerance and interpolation gap) starts after the group's widened windows end. Each group is
    matched over its own span, so a batch with January and March crimes never reads February."""
    margin = pd.Timedelta(seconds=params.tolerance_s + params.max_gap_s)
    df = crimes_df.sort_values([S.TIME_FROM, S.TIME_TO]).reset_index(drop=True)
    groups, first, hi = [], 0, None
    for i, (t0, t1) in enumerate(zip(df[S.TIME_FROM], df[S.TIME_TO], strict=True)):
        if hi is not None and t0 - margin > hi:
            groups.append(df.iloc[first:i])
            first, hi = i, None
        hi = t1 + margin if hi is None else max(hi, t1 + margin)
    if len(df):
        groups.append(df.iloc[first:])
    return groups


def _match_grouped(crimes_df: pd.DataFrame, params: matching.Params, trigger: str) -> matching.MatchResult:
    """``matching.match`` over the positions store read through ``store.positions_table`` (Ibis on
    DuckDB, partition-pruned to the days of each group of crimes, never loaded whole into pandas), one
    group of crimes close in time at a time; the groups' points and summaries put together."""
    import ibis

    acts = activations_frame()
    margin = pd.Timedelta(seconds=params.tolerance_s + params.max_gap_s)
    points, summaries, result = [], [], None
    for group in crime_groups(crimes_df, params):
        start = group[S.TIME_FROM].min() - margin
        end = group[S.TIME_TO].max() + margin + pd.Timedelta(seconds=1)
        con = ibis.duckdb.connect()
        try:
            con.raw_sql("SET TimeZone = 'UTC'")
            pos = store.positions_table(con, store_root(), start, end)
            result = matching.match(pos, acts, group, params, trigger=trigger, con=con)
        finally:
            con.disconnect()
        points.append(result.points)
        summaries.append(result.summary)
    if result is None:  # no crimes
        return matching.match(positions_frame(pd.Timestamp(0, tz="UTC"), pd.Timestamp(1, tz="UTC")), acts,
                              crimes_df, params, trigger=trigger)
    return matching.MatchResult(points=pd.concat(points, ignore_index=True),
                                summary=pd.concat(summaries, ignore_index=True), run=result.run)


def match_inline() -> bool:
    """``VRU_TAGGING_MATCH_INLINE`` (a setting, else the environment variable; default False): an uploaded
    batch's queued run is executed at once, inside the upload request, by the worker's own code path
    (:func:`run_queued`). For the demo and the test suite, where no worker runs; in production the
    ``vru-tagging-match`` unit's worker (``tagging_match --pending --loop``) takes queued runs."""
    from vru.web.core.switches import switch

    return switch("VRU_TAGGING_MATCH_INLINE")


def queue_run(versions, *, trigger: str = "AUTO", batch=None, user=None,
              params: matching.Params | None = None) -> MatchRun:
    """Record a run of these crime versions as QUEUED (nothing matched yet): a worker takes it."""
    params = params or matching.Params()
    run = MatchRun.objects.create(algorithm_version=matching.ALGORITHM_VERSION, parameters=asdict(params),
                                  trigger=trigger, status="QUEUED", queued_at=timezone.now(), started=None,
                                  batch=batch, started_by=user)
    run.crime_versions.set(list(versions))
    return run


def claim_run(pk: int) -> bool:
    """Move a QUEUED run to RUNNING: one conditional UPDATE (``... WHERE status = 'QUEUED'``), so of two
    workers that both saw it queued exactly one gets True (on PostgreSQL the second UPDATE waits for the
    first's row lock, re-reads the row and finds it RUNNING; SQLite runs one writer at a time)."""
    return MatchRun.objects.filter(pk=pk, status="QUEUED").update(status="RUNNING", started=Now(),
                                                                   heartbeat=Now()) == 1


def queued_run_ids(limit: int | None = None) -> list[int]:
    """The QUEUED runs, oldest first."""
    qs = MatchRun.objects.filter(status="QUEUED").order_by("queued_at", "pk").values_list("pk", flat=True)
    return list(qs[:limit] if limit else qs)


def run_queued(pk: int) -> MatchRun | None:
    """Claim and execute one queued run (the worker's step, and the inline path of an upload): None if
    another worker claimed it first. A failure is recorded on the run (FAILURE and its error) and raised
    as ``matching.MatchRunError``."""
    fail_stale_runs()
    if not claim_run(pk):
        return None
    run = MatchRun.objects.get(pk=pk)
    versions = list(run.crime_versions.select_related("crime").order_by("pk"))
    try:
        params = matching.Params(**(run.parameters or {}))
    except (TypeError, ValueError) as exc:
        _fail(run, f"the run's parameters cannot be used: {exc}")
        raise matching.MatchRunError(dict(status="FAILURE"), run.error) from exc
    return _execute(run, versions, params)


def run_pending(limit: int | None = None, *, log_to=None) -> dict[str, int]:
    """Execute the queued runs, oldest first (``tagging_match --pending``): each claimed by
    :func:`claim_run` first, so a run another worker took is skipped; a run that fails is recorded
    (FAILURE, its error) and the next one taken. Stale RUNNING runs are marked FAILURE first. Returns the
    counts: done, failed, skipped (claimed by another worker)."""
    counts = {"done": 0, "failed": 0, "skipped": 0}
    for pk in queued_run_ids(limit):
        try:
            run = run_queued(pk)
        except matching.MatchRunError as exc:
            counts["failed"] += 1
            log.error("tagging: matching run %s failed: %s", pk, exc)
            if log_to is not None:
                log_to(f"run {pk}: FAILURE: {exc}")
            continue
        if run is None:
            counts["skipped"] += 1
            continue
        counts["done"] += 1
        if log_to is not None:
            log_to(f"run {pk}: {run.status}, {run.matches.count()} match(es)")
    return counts


def run_matching(versions, *, trigger: str = "MANUAL", batch=None, user=None,
                 params: matching.Params | None = None) -> MatchRun:
    """Match crime versions against the positions store now (a MANUAL run, ``tagging_match --batch``);
    record the run (algorithm version, parameters, trigger, start, end, status) and its matches with their
    points. A failure is recorded with status FAILURE and its error (and re-raised as
    ``matching.MatchRunError``)."""
    versions = list(versions)
    params = params or matching.Params()
    fail_stale_runs()
    run = MatchRun.objects.create(algorithm_version=matching.ALGORITHM_VERSION,
                                  parameters=asdict(params), trigger=trigger, queued_at=Now(), started=Now(),
                                  heartbeat=Now(), status="RUNNING", batch=batch, started_by=user)
    run.refresh_from_db(fields=["queued_at", "started", "heartbeat"])  # the database's clock
    run.crime_versions.set(versions)
    return _execute(run, versions, params)


def _fail(run: MatchRun, error: str) -> None:
    """Mark a RUNNING run FAILURE with ``error``. A run another process has already ended keeps its own
    status and error (``run`` is refreshed to them)."""
    ended = timezone.now()
    if MatchRun.objects.filter(pk=run.pk, status="RUNNING").update(status="FAILURE", ended=ended,
                                                                  error=error[:4000]):
        run.status, run.ended, run.error = "FAILURE", ended, error[:4000]
    else:
        run.refresh_from_db(fields=["status", "ended", "error"])


def _succeed(run: MatchRun) -> None:
    """Mark the run SUCCESS if it is still RUNNING, under a row lock (``SELECT ... FOR UPDATE``) taken in
    the caller's transaction, so that no stale-run check can fail it between the check and the commit;
    else raise :class:`RunLost`, rolling back what the transaction wrote (its matches)."""
    status = (MatchRun.objects.select_for_update().filter(pk=run.pk).values_list("status", flat=True)
              .first())
    if status != "RUNNING":
        raise RunLost(run.pk, status)
    ended = timezone.now()
    MatchRun.objects.filter(pk=run.pk).update(status="SUCCESS", ended=ended)
    run.status, run.ended = "SUCCESS", ended


def _lost(run: MatchRun, exc: RunLost) -> matching.MatchRunError:
    log.error("tagging: %s", exc)
    run.refresh_from_db(fields=["status", "ended", "error"])
    return matching.MatchRunError(dict(status=run.status, error=run.error), str(exc))


def _execute(run: MatchRun, versions, params: matching.Params) -> MatchRun:
    """Match a RUNNING run's versions and record its matches; SUCCESS, or FAILURE with the error (raised
    as ``matching.MatchRunError``). A run with no versions left succeeds with no match. A run another
    process marked FAILURE meanwhile (:func:`fail_stale_runs`) stays so, with none of its matches recorded
    (``matching.MatchRunError`` too): the batch may have been run again since."""
    by_vid = {v.version_id: v for v in versions}
    try:
        if not versions:
            with transaction.atomic():
                _succeed(run)
            return run
        with RunHeartbeat(run.pk) as hb:
            result = _match_grouped(_versions_frame(versions), params, run.trigger)
        if hb.lost:
            raise RunLost(run.pk, MatchRun.objects.filter(pk=run.pk).values_list("status", flat=True).first())
    except RunLost as exc:
        raise _lost(run, exc) from exc
    except matching.MatchRunError as exc:
        _fail(run, str(exc.run.get("error") or exc))
        raise
    except Exception as exc:  # an input the layer refused before its own run record (e.g. bad versions)
        _fail(run, f"{type(exc).__name__}: {exc}")
        raise matching.MatchRunError(dict(status="FAILURE"), str(exc)) from exc
    try:
        with RunHeartbeat(run.pk):
            _record_matches(run, result, by_vid)
    except RunLost as exc:
        raise _lost(run, exc) from exc
    except Exception as exc:  # the database refused the results: recorded, never left RUNNING
        log.exception("tagging: recording the matches of run %s failed", run.pk)
        _fail(run, f"recording the matches failed: {type(exc).__name__}: {exc}")
        raise matching.MatchRunError(dict(status="FAILURE"), str(exc)) from exc
    return run


def _record_matches(run: MatchRun, result: matching.MatchResult, by_vid: dict) -> None:
    wearers = {w.ref: w for w in Wearer.objects.filter(ref__in=set(result.summary[S.WEARER_REF]))}
    points = _storable(run, result.points)
    with transaction.atomic():
        for s in result.summary.to_dict("records"):
            wearer = wearers.get(s[S.WEARER_REF])
            if wearer is None:  # an activation without a wearer record cannot happen (FK); be safe
                continue
            pts = points[(points[S.CRIME_VERSION_ID] == s[S.CRIME_VERSION_ID])
                         & (points[S.WEARER_REF] == s[S.WEARER_REF])]
            m = Match.objects.create(
                run=run, crime_version=by_vid[s[S.CRIME_VERSION_ID]], wearer=wearer,
                device_id=str(pts[S.DEVICE_ID].iloc[0]) if len(pts) else "",
                probability=min(max(float(s["p_within"]), 0.0), 1.0), dwell_s=float(s["dwell_s"]),
                min_distance_m=float(s["min_distance_m"]), n_fixes=int(s["n_fixes"]),
                first_time=s["first_time"].to_pydatetime(), last_time=s["last_time"].to_pydatetime(),
                explanation=str(s["explanation"]))
            lon, lat = _TO_WGS84.transform(pts[S.EASTING].to_numpy(), pts[S.NORTHING].to_numpy())
            MatchPoint.objects.bulk_create([MatchPoint(
                match=m, label=f"{p[S.VISIT]}{int(p[S.SEQ])}", fix_time=p[S.FIX_TIME].to_pydatetime(),
                easting=float(p[S.EASTING]), northing=float(p[S.NORTHING]), lat=float(la), lon=float(lo),
                precision_m=float(p[S.PRECISION_M]), speed_kmh=_num(p[S.SPEED_KMH]),
                heading_deg=_num(p[S.HEADING_DEG]), mechanism=str(p[S.MECHANISM]),
                distance_m=float(p[S.DISTANCE_M]), interpolated=bool(p[S.INTERPOLATED]))
                for p, la, lo in zip(pts.to_dict("records"), lat, lon, strict=True)])
        _succeed(run)  # only if still RUNNING: else RunLost rolls the matches back


def _storable(run: MatchRun, points: pd.DataFrame) -> pd.DataFrame:
    """The matched fixes the MatchPoint table can hold: the feed importer refuses a speed or precision past
    its bounds (positions.MAX_SPEED_KMH, MAX_PRECISION_M), but a store written before that check may still
    hold one; one such fix must not fail the whole run (review 3, 5). A precision or distance out of bounds
    drops the fix from the stored copy; a speed or heading out of bounds is stored as unknown. Each is
    logged."""
    if points.empty:
        return points
    prec = pd.to_numeric(points[S.PRECISION_M], errors="coerce")
    dist = pd.to_numeric(points[S.DISTANCE_M], errors="coerce")
    # a distance past the bound (R + the largest precision) can come only from a precision the store held
    # before the importer's check, or a run's radius past MAX_RADIUS_M: the fix is left out, logged
    bad = ~prec.between(0, MAX_PRECISION_M) | ~dist.between(0, MAX_DISTANCE_M)
    spd = pd.to_numeric(points[S.SPEED_KMH], errors="coerce")
    bad_speed = spd.notna() & ~spd.between(0, MAX_SPEED_KMH)
    hdg = pd.to_numeric(points[S.HEADING_DEG], errors="coerce")
    bad_heading = hdg.notna() & ~((hdg >= 0) & (hdg < 360))
    if not (bad.any() or bad_speed.any() or bad_heading.any()):
        return points
    devices = sorted(set(points.loc[bad | bad_speed | bad_heading, S.DEVICE_ID].astype(str)))
    log.warning("match run %s: %d matched fixes with a precision over %s m or a distance over %s m not "
                "stored, %d speeds over %s km/h and %d headings outside 0-360 stored as unknown (devices %s)",
                run.pk, int(bad.sum()), f"{MAX_PRECISION_M:,.0f}", f"{MAX_DISTANCE_M:,.0f}",
                int(bad_speed.sum()), f"{MAX_SPEED_KMH:,.0f}",
                int(bad_heading.sum()), ", ".join(devices[:5]))
    points = points.copy()
    points[S.SPEED_KMH] = spd.where(~bad_speed)
    points[S.HEADING_DEG] = hdg.where(~bad_heading)
    return points[~bad]


class AlreadyReviewed(ValueError):
    """The match was qualified or dismissed by someone else first (its decision stands)."""


class EvidenceMissing(ValueError):
    """The match has no stored fixes (retention purged them), so it cannot be qualified."""


def review_match(match: Match, user, decision: str, reason: str) -> Match:
    """Qualify or dismiss a pending match, with the reviewer, the time and the reason.

    The decision is one conditional UPDATE of a match that is still pending, so of two reviewers
    deciding at once exactly one wins; the other gets :class:`AlreadyReviewed` naming the decision that
    stands, and ``match`` is refreshed to it."""
    if decision not in ("qualified", "dismissed"):
        raise ValueError("decision must be 'qualified' or 'dismissed'")
    if not reason.strip():
        raise ValueError("a reason is required")
    now = timezone.now()
    if decision == "qualified" and not match.points.exists():
        raise EvidenceMissing("This match has no stored fixes (purged under retention, or none could be "
                              "stored): it cannot be qualified, as its report would have no evidence.")
    done = Match.objects.filter(pk=match.pk, status="pending").update(
        status=decision, reviewed_by=user, reviewed_at=now, reason=reason)
    if not done:
        match.refresh_from_db(fields=["status", "reviewed_by", "reviewed_at", "reason"])
        who = match.reviewed_by.email if match.reviewed_by else "someone else"
        when = f" at {match.reviewed_at:%Y-%m-%d %H:%M} UTC" if match.reviewed_at else ""
        raise AlreadyReviewed(f"This match was already {match.status} by {who}{when}; that decision stands.")
    match.status, match.reviewed_by, match.reviewed_at, match.reason = decision, user, now, reason
    return match


# ---------------------------------------------------------------------------------- zones, breaches
def build_zone(z: Zone) -> zones.Zone:
    """The analysis layer's Zone of a stored zone (curfew: an inclusion circle round the address)."""
    scheds = ()
    if z.rrule:
        local = timezone.make_naive(z.local_start, zones.LONDON) if timezone.is_aware(z.local_start) \
            else z.local_start
        scheds = (zones.Schedule(z.rrule, local, timedelta(minutes=z.duration_minutes)),)
    if z.kind == "curfew":
        return zones.Zone(str(z.pk), zones.INCLUSION,
                          Point(z.curfew_easting, z.curfew_northing).buffer(z.curfew_radius_m, quad_segs=64),
                          scheds)
    return zones.zone_from_geojson(z.geometry, str(z.pk), z.kind, crs="BNG", schedules=scheds)


#: how far before a detection window breach detection reads the fixes, so that a run of fixes in violation
#: that began before the window (and had not yet opened a breach) is seen whole; an open breach is also
#: re-read from its first fix. (A run longer than this before it opens is cut: BreachRule's dwell is
#: minutes.)
BREACH_LOOKBACK = timedelta(hours=2)


def detect_breaches(start, end, wearers=None) -> list[Breach]:
    """Find breaches in [start, end) with ``zones.detect_breaches`` and store them, one per episode.

    Runs over consecutive windows give the breaches of one run over their union: the fixes are read from
    ``BREACH_LOOKBACK`` before ``start``, or from the first fix of the earliest breach still open of these
    zones, and a breach found that overlaps one stored of the same zone is that breach (extended, and
    closed when it has closed), not a new one. Running again over the same period adds nothing. A zone that
    cannot be used is skipped and logged. Returns the breaches created."""
    qs = Wearer.objects.all() if wearers is None else wearers
    zone_map, by_id = {}, {}
    for z in Zone.objects.filter(wearer__in=qs).select_related("wearer"):
        try:  # one zone that cannot be used (stored before its rule was checked) never stops the others
            built = build_zone(z)
            for sch in built.schedules:
                sch.intervals(pd.Timestamp(start), pd.Timestamp(end))
        except (ValueError, TypeError, OverflowError) as exc:
            log.error("tagging: zone %s of wearer %s skipped in breach detection: %s", z.pk, z.wearer.ref,
                      exc)
            continue
        zone_map.setdefault(z.wearer.ref, []).append(built)
        by_id[str(z.pk)] = z
    if not zone_map:
        return []
    read_from = pd.Timestamp(start) - BREACH_LOOKBACK
    still_open = Breach.objects.filter(zone__in=by_id.values(), closed_at__isnull=True).order_by("started_at")
    first_open = still_open.first()
    if first_open is not None and pd.Timestamp(first_open.started_at) < read_from:
        read_from = pd.Timestamp(first_open.started_at)
    acts = activations_frame(qs)
    pos = positions_frame(read_from, end, devices=list(acts[S.DEVICE_ID].unique()))
    if pos.empty:
        return []
    found = zones.detect_breaches(pos, zone_map, acts)
    created = []
    for r in found.to_dict("records"):
        z = by_id[r["zone_id"]]
        started, opened = r["started"].to_pydatetime(), r["opened"].to_pydatetime()
        closed = None if pd.isna(r["closed"]) else r["closed"].to_pydatetime()
        same = Breach.objects.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=started), zone=z)
        if closed is not None:
            same = same.filter(started_at__lte=closed)
        same = same.order_by("started_at").first()
        if same is None:
            created.append(Breach.objects.create(
                zone=z, wearer=z.wearer, started_at=started, opened_at=opened, closed_at=closed,
                close_reason=r["close_reason"] or "", n_fixes=min(int(r["n_fixes"]), 1_000_000),
                proof_fixes=[pd.Timestamp(t).isoformat() for t in (r["evidence"] or [])], alert_at=opened))
            continue
        # the same episode: its alert stands; it may have begun earlier than first seen, and may close now
        changed = []
        if started < same.started_at:
            same.started_at = started
            changed.append("started_at")
        if closed is not None and (same.closed_at is None or closed > same.closed_at):
            same.closed_at, same.close_reason = closed, r["close_reason"] or ""
            changed += ["closed_at", "close_reason"]
        n = min(int(r["n_fixes"]), 1_000_000)
        if n > same.n_fixes:
            same.n_fixes = n
            changed.append("n_fixes")
        if changed:
            same.save(update_fields=changed)
    return created


def record_step(breach: Breach, step: str, *, outcome: str = "", when: datetime | None = None) -> Breach:
    """Record the next step of a breach's lifecycle (alert -> identified -> police notified -> response ->
    outcome). Steps are taken in order, once each."""
    if step != breach.next_step():
        raise ValueError(f"the next step of this breach is {breach.next_step() or 'none (it is closed)'}")
    if step == "outcome_at":
        if outcome not in dict(Breach.OUTCOMES):
            raise ValueError("choose an outcome: warning, recall or no action")
        breach.outcome = outcome
    setattr(breach, step, when or timezone.now())
    breach.save()
    return breach


# --------------------------------------------------------------------------------------- retention
def keep_intervals() -> pd.DataFrame:
    """The positions retention must keep (schema.KEEP): the fixes behind every qualified match and every
    breach.

    A match: every device the wearer wore (inside its activation) from the crime window's start minus
    the run's tolerance and its largest interpolation gap (``max_gap_s``) to the window's end plus both,
    and at least the match's first to last point: an interpolated point stands on two recorded fixes up
    to ``max_gap_s`` either side of it, and a match can span a change of device. A breach: the wearer's
    devices from the first fix of the run that proved it to its close, or now while it is open."""
    rows = []
    qualified = Match.objects.filter(status="qualified").select_related("crime_version", "run", "wearer")
    for m in qualified.prefetch_related("wearer__activations"):
        params = m.run.parameters or {}
        margin = timedelta(seconds=float(params.get("tolerance_s", 300))
                           + float(params.get("max_gap_s", 1800)))
        lo = min(m.first_time, m.crime_version.time_from) - margin
        hi = max(m.last_time, m.crime_version.time_to) + margin
        devices = {m.device_id}
        for a in m.wearer.activations.all():
            if a.active_from < hi and (a.active_to is None or a.active_to > lo):
                end = hi if a.active_to is None else min(hi, a.active_to)
                rows.append((a.device_id, max(lo, a.active_from), end))
                devices.discard(a.device_id)
        rows.extend((d, lo, hi) for d in devices if d)  # the match's device, even with no activation left
    now = timezone.now()
    for b in Breach.objects.select_related("wearer"):
        hi = b.closed_at or now
        for a in b.wearer.activations.all():
            if a.active_from <= hi and (a.active_to is None or a.active_to > b.started_at):
                rows.append((a.device_id, b.started_at, hi))
    df = pd.DataFrame(rows, columns=[S.DEVICE_ID, S.TIME_FROM, S.TIME_TO])
    for c in (S.TIME_FROM, S.TIME_TO):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    return df


@dataclass
class PurgeResult(store.PurgeResult):
    """What :func:`purge` did: the store's purge, and the stored copies of fixes (MatchPoint rows) deleted."""

    match_points_deleted: int = 0


#: the reason recorded on a pending match closed because retention purged its stored fixes
RETENTION_REASON = ("Closed under retention: the stored copies of its fixes were purged before it was "
                    "reviewed, so it can no longer be qualified.")


def purge_match_points(before: datetime) -> int:
    """Delete the stored copies of raw fixes (MatchPoint rows) retention no longer allows (review 3, 6): all
    of a dismissed match's, and a pending match's once both its crime window and its run ended before
    ``before``. A qualified match's (its evidence) are kept; breaches keep no copies. Returns how many.

    A pending match whose copies go is closed at once (review 4): dismissed with no reviewer, the time,
    and :data:`RETENTION_REASON`, so it can no longer be qualified on evidence that is gone (its report
    would have nothing to show)."""
    stale = (Q(match__status="dismissed")
             | Q(match__status="pending", match__crime_version__time_to__lt=before,
                 match__run__ended__lt=before))
    with transaction.atomic():
        closing = set(MatchPoint.objects.filter(stale, match__status="pending")
                      .values_list("match_id", flat=True).distinct())
        deleted, _ = MatchPoint.objects.filter(stale).delete()
        if closing:
            closed = Match.objects.filter(pk__in=closing, status="pending").update(
                status="dismissed", reviewed_by=None, reviewed_at=timezone.now(), reason=RETENTION_REASON)
            log.info("retention: %d pending matches closed, their stored fixes purged", closed)
    return deleted


def purge(now: datetime | None = None, days: int | None = None) -> PurgeResult:
    """Delete raw positions older than the retention period, except those retention must keep, and the
    stored copies of fixes of dismissed matches and of pending matches past the period."""
    days = settings.VRU_TAGGING_RETENTION_DAYS if days is None else days
    if int(days) < 1:
        raise ValueError(f"the retention period must be at least 1 day, not {days}")
    before = (now or timezone.now()) - timedelta(days=days)
    copies = purge_match_points(before)
    return PurgeResult(**asdict(store.purge(store_root(), before, keep=keep_intervals())),
                       match_points_deleted=copies)


# ------------------------------------------------------------------------------------------ figures
#: Cells below this are suppressed in the programme figures (with complementary suppression).
FIGURES_MIN_N = 10
MEASURES = [("wearers", "Wearers active"), ("positions", "Positions received"), ("matches", "Matches"),
            ("qualified", "Qualified matches"), ("breaches", "Breaches"), ("recalls", "Recalls")]


def _month_range(a, b) -> list[str]:
    return [str(p) for p in pd.period_range(pd.Timestamp(a).to_period("M"), pd.Timestamp(b).to_period("M"))]


def figures_counts() -> dict[str, pd.DataFrame]:
    """Counts by order type (rows) and month (columns) of each measure (unsuppressed)."""
    from .models import ORDER_TYPES

    types = [t for t, _ in ORDER_TYPES]
    records: dict[str, list[tuple[str, str]]] = {m: [] for m, _ in MEASURES}
    wearers = list(Wearer.objects.all())
    today = timezone.now().date()
    months: set[str] = set()
    for w in wearers:
        for mth in _month_range(w.order_start, min(w.order_end or today, today)):
            records["wearers"].append((w.order_type, mth))
    # a match is counted once per (crime version, wearer), however many runs found it (a rerun makes a
    # new Match row); qualified if any of them was qualified
    pairs: dict[tuple[int, int], list] = {}
    for m in Match.objects.select_related("wearer", "crime_version"):
        mth = str(pd.Timestamp(m.crime_version.time_from).to_period("M"))
        entry = pairs.setdefault((m.crime_version_id, m.wearer_id), [m.wearer.order_type, mth, False])
        entry[2] = entry[2] or m.status == "qualified"
    for order_type, mth, qualified in pairs.values():
        records["matches"].append((order_type, mth))
        if qualified:
            records["qualified"].append((order_type, mth))
    for b in Breach.objects.select_related("wearer"):
        mth = str(pd.Timestamp(b.opened_at).to_period("M"))
        records["breaches"].append((b.wearer.order_type, mth))
        if b.outcome == "recall":
            records["recalls"].append((b.wearer.order_type, mth))
    out = {}
    for key, rows in records.items():
        df = pd.DataFrame(rows, columns=["order_type", "month"])
        out[key] = df
        months |= set(df["month"])
    out["positions"] = pd.DataFrame(
        list(PositionReceipt.objects.values("order_type", "month").annotate(n=Sum("n"))),
        columns=["order_type", "month", "n"])
    months |= set(out["positions"]["month"]) if len(out["positions"]) else set()
    cols = sorted(months)
    tables = {}
    for key, _ in MEASURES:
        df = out[key]
        if key == "positions" and len(df):
            t = df.pivot_table(index="order_type", columns="month", values="n", aggfunc="sum", fill_value=0)
        else:
            t = pd.crosstab(df["order_type"], df["month"]) if len(df) else pd.DataFrame()
        tables[key] = t.reindex(index=types, columns=cols, fill_value=0).fillna(0).astype("int64")
    return tables


def _published_cached(counts: dict[str, pd.DataFrame], min_n: int, suppress_table) -> dict[str, pd.DataFrame]:
    """Each measure's published (suppressed) table, kept in the cache under a keyed hash of the counts.

    Suppression audits every hidden cell by linear programming (seconds for a few years of months),
    while the counts change only when wearers, matches or breaches do: the same counts give the same
    published tables, so they are computed once per change. Only the published tables are cached; the
    key is an HMAC (the site's secret key) of the counts, so the key cannot be used to guess them.
    """
    from django.core.cache import cache
    from django.utils.crypto import salted_hmac

    text = "|".join(f"{k}:{min_n}:{t.to_json(orient='split')}" for k, t in sorted(counts.items()))
    key = "tagging-figures:" + salted_hmac("vru.tagging.figures", text, algorithm="sha256").hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    published = {k: suppress_table(t, min_n=min_n).published() for k, t in counts.items() if t.shape[1]}
    cache.set(key, published, None)
    return published


def figures(min_n: int = FIGURES_MIN_N) -> list[dict]:
    """The programme figures as they may be published: each measure's order type x month table with its
    margins, cells below ``min_n`` suppressed with complementary suppression
    (``vru.analysis.disclosure.suppress_table``). Each item: key, label, table (published, <NA> hidden)."""
    from vru.analysis.disclosure import suppress_table

    from .models import ORDER_TYPES

    counts = figures_counts()
    published = _published_cached(counts, min_n, suppress_table)
    out = []
    for key, label in MEASURES:
        t = counts[key]
        if t.shape[1] == 0:
            out.append({"key": key, "label": label, "table": None})
            continue
        pub = published[key]
        names = dict(ORDER_TYPES) | {"Total": "Total"}
        rows = [(names.get(i, i), [None if pd.isna(v) else int(v) for v in pub.loc[i]]) for i in pub.index]
        out.append({"key": key, "label": label, "table": pub, "columns": list(pub.columns), "rows": rows})
    return out
