"""Batched writes of finished trials to the store, at least every `interval_s` or `batch_size` trials.

On SQLite the batch is written on the event loop's own thread: SQLAlchemy's work there is pure
CPU, and a writer thread only fought the event loop for the GIL — measured at 5000 trials it
ran 6-9 s per batch, so batches grew to ~1,700 trials and a crash could lose that many. A
500-trial batch costs ~20 ms inline. On PostgreSQL the batch goes to a thread, where waiting on
the network releases the GIL.

A write the store refuses is never dropped silently. A lock held by another process or a dropped
database connection is retried with backoff for up to `store_wait_s`, and while it is, `add` holds
the workers back so no further model call is paid for; anything else (a full disk, a read-only
store), or the wait running out, is a `StoreWriteError` in `failure`, `failed` is set and every
later `add` raises it. The engine then stops the run (engine.runner). Nothing paid for is thrown away:
the batch the store refused and every answer added after it are kept on the side (engine.pending) when
the writer closes, and `--resume` stores them without asking the model again.

The nodes of conversation trials (trials.base.Node) share the batches and are written first in each, so a
stored trial always has its nodes; a node already stored (a retried batch) is skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from safehub.engine import pending
from safehub.engine.grading import grade_records
from safehub.store.faults import StoreWriteError, write_fault
from safehub.store.nodes import write_nodes
from safehub.store.writes import TrialRecord, beat, write_trials
from safehub.trials.base import Node

# SQLite's own wait for its write lock on each try; between tries the writer sleeps on the event loop.
LOCK_WAIT_MS = 200
HEARTBEAT_S = 5.0  # how often a run's owner says it is alive (queries.STALE_AFTER_S reads it)


class TrialWriter:
    """Only trials still buffered when the process is killed are lost: about `interval_s` of work."""

    def __init__(self, engine: Engine, *, batch_size: int = 500, interval_s: float = 0.25, max_buffered: int = 5000,
                 store_wait_s: float = 60.0, run_ids: list[str] | None = None):
        self.engine = engine
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.max_buffered = max_buffered
        self.store_wait_s = store_wait_s
        self.run_ids = list(run_ids or [])
        self.is_inline = engine.dialect.name == "sqlite"
        self.written = 0
        self.failure: BaseException | None = None
        self.failed = asyncio.Event()
        self.kept: dict[str, int] = {}  # run id -> answers the store refused, kept for the resume (engine.pending)
        self.keep_error: OSError | None = None  # keeping them failed too
        self._unstored: dict[str, list[TrialRecord]] = defaultdict(list)
        self._buffer: dict[str, list[TrialRecord]] = defaultdict(list)
        self._nodes: dict[str, list[tuple[tuple[int, str, int], Node]]] = defaultdict(list)
        self._lost_nodes: set[tuple[str, tuple[int, str, int]]] = set()  # (run id, trial key): a node never stored
        self._buffered = 0
        self._is_retrying = False
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._closed = False
        self._last_beat = time.monotonic()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="trial-writer")

    async def add(self, run_id: str, record: TrialRecord) -> None:
        """Buffer a finished trial. Waits while the store is behind or refusing writes; raises the
        writer's failure once it has one (the trial is then kept for the resume, not stored)."""
        if self.failure is not None:
            self._unstored[run_id].append(record)
            raise self.failure
        self._buffer[run_id].append(record)
        await self._buffered_one()

    async def _buffered_one(self) -> None:
        self._buffered += 1
        if self._buffered >= self.batch_size:
            self._wake.set()
            await asyncio.sleep(0)  # let the writer take the batch before more pile up
        # The store is slower than the model, or refusing writes: wait for it before calling the model again.
        if self._buffered >= self.max_buffered or self._is_retrying:
            self._drained.clear()
            await self._drained.wait()
        if self.failure is not None:
            raise self.failure

    async def add_node(self, run_id: str, trial_key: tuple[int, str, int], node: Node) -> None:
        """Buffer one node of a conversation trial; it is written in the next batch, before any trial row
        of that batch, so a stored trial always has its nodes. Raises the writer's failure once it has one
        (the node is then lost, and a resume asks for it again)."""
        if self.failure is not None:
            raise self.failure
        self._nodes[run_id].append((trial_key, node))
        await self._buffered_one()

    async def _loop(self) -> None:
        try:
            while not self._closed:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
                await self.flush()
                if self.run_ids and time.monotonic() - self._last_beat >= HEARTBEAT_S:
                    await self._store(lambda: beat(self.engine, self.run_ids, lock_wait_ms=LOCK_WAIT_MS))
                    self._last_beat = time.monotonic()
        except Exception as exc:  # never die silently: whatever stopped the writer stops the run
            self._fail(exc)

    async def flush(self) -> None:
        if self.failure is not None:
            return
        if self._buffered:
            batch, self._buffer, self._buffered = self._buffer, defaultdict(list), 0
            nodes, self._nodes = self._nodes, defaultdict(list)
            try:
                self.written += await self._store(lambda: self._write(batch, nodes))
            except Exception:  # the store refused it, or grading broke: keep the answers for the resume
                for run_id, records in batch.items():
                    self._unstored[run_id].extend(records)
                self._note_lost_nodes(nodes)
                raise
        self._drained.set()

    def _write(self, batch: dict[str, list[TrialRecord]], nodes: dict[str, list]) -> int:
        for run_id, run_nodes in nodes.items():  # an insert that skips stored keys: a retry stores each once
            write_nodes(self.engine, run_id, run_nodes, lock_wait_ms=LOCK_WAIT_MS)
        for records in batch.values():
            grade_records(records)  # a retried batch is already graded: grading skips it
        return sum(write_trials(self.engine, run_id, records, lock_wait_ms=LOCK_WAIT_MS)
                   for run_id, records in batch.items())

    async def _store(self, write):
        """Run one write, retrying a lock or a dropped connection with backoff for up to `store_wait_s`."""
        started = time.monotonic()
        delay_s = 0.05
        while True:
            try:
                return write() if self.is_inline else await asyncio.to_thread(write)
            except IntegrityError:
                raise  # write_trials handles duplicates itself: anything left is a bug, not a fault
            except SQLAlchemyError as exc:
                fault = write_fault(self.engine, exc)
                if not fault.is_transient or time.monotonic() - started + delay_s > self.store_wait_s:
                    self._fail(fault)
                    raise fault from None
                self._is_retrying = True
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 2.0)
            finally:
                self._is_retrying = False

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.failed.set()
        self._drained.set()  # wake every waiting `add`: they raise the failure

    async def close(self) -> None:
        """Write everything still buffered, then stop. Safe to call after the workers were cancelled.

        After a failure nothing more is written to the store: the trials it refused and those still
        buffered are kept on the side for the resume (engine.pending)."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task
        try:
            await self.flush()
        except StoreWriteError:
            pass  # kept in `failure`; the engine reports it
        if self.failure is not None:
            self._keep_unstored()

    def _note_lost_nodes(self, nodes: dict[str, list]) -> None:
        for run_id, run_nodes in nodes.items():
            self._lost_nodes.update((run_id, trial_key) for trial_key, _ in run_nodes)

    def _keep_unstored(self) -> None:
        for run_id, records in self._buffer.items():
            self._unstored[run_id].extend(records)
        self._buffer, self._buffered = defaultdict(list), 0
        self._note_lost_nodes(self._nodes)
        self._nodes = defaultdict(list)
        for run_id, records in self._unstored.items():
            # A conversation whose nodes the store refused is not kept: stored without them it would be a
            # trial with holes in its tree. The resume runs it again, replaying the nodes that were stored.
            records = [r for r in records if (run_id, (r.sample_pk, r.attack, r.epoch)) not in self._lost_nodes]
            if not records:
                continue
            try:
                pending.keep(run_id, records)
            except OSError as exc:  # the cache's disk is full too: say how many answers were lost
                self.keep_error = exc
                continue
            self.kept[run_id] = self.kept.get(run_id, 0) + len(records)
        self._unstored = defaultdict(list)
