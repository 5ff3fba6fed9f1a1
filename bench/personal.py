"""Personal data under the GDPR (elicense.personal), measured on real Anvils as the registry grows to 10,000 records.

Every operation goes through :class:`elicense.personal.PersonalData`, the client the CLI and the REST
API use, on a real PersonalDataRegistry, with both storage backends: the embedded store (a temporary
folder) and a real js-ipfs node (npm ``ipfs@0.66.1``, offline, on 127.0.0.1) through ``IpfsStore``.

* one Anvil (automine, but see create) and one store per backend, grown to 1, 10, 100, 1,000 and 10,000 records
  (100,000 with ``--long``); the registry's controller and one processor are dev accounts, every
  record's subject a fresh key; each file is sealed for subject, controller and processor;
* create: the records up to each size but the last 20 are created pipelined: the steps of
  ``create_with_consent`` (seal, store, the subject's EIP-712 consent signature) and the ``create``
  transaction handed to ``Chain.submit`` without waiting, every receipt checked (throughput:
  ``create.pipelined``). For these only, automine is paused and the creates are mined 64 to a
  block (``evm_mine``), as a real chain would include them; ``--automine-fill`` keeps automine
  (one create per block) and takes twice as long. The last 20 go through ``create_with_consent``
  one at a time under automine, each timed with its receipt (latency at that size); gas per create;
* read: at each size, 50 reads of random subjects (with replacement below 50 records) by the
  processor: signed read, ``logRead`` transaction, record, fetch, tamper check, decrypt (``read``);
  gas per read. The host may be shared, so each read is interleaved with one on a reference: a
  second Anvil and store of the same backend kept at 100 records (``read_reference``);
* list by field: the processor lists every record, ``name,email``, in pages of 100
  (``list_by_field``: one ``logReads`` transaction per page, then fetch and decrypt of each
  envelope); time per page and for all records; gas per page;
* erase: at each size, 20 erasures of random subjects (all of them below 20 records): ``erase``
  transaction, then every file of the record removed from the store and checked gone (on IPFS:
  unpin and ``repo gc``, so the cost of garbage collection over the whole repository is in it).
  Each erased subject is then created again (a new consent; not timed, its gas recorded), so the
  next size starts from records that are all live and a store holding one file per record.

Each timed operation is also split into phases (seal/open, store calls, signatures, the
transaction: gas estimate, signing, sending; the receipt wait: Anvil mining the block, polled every
50 ms by ``Chain.wait``; the rest: view calls, log queries, Python) by timing wrappers around those
calls; the phases are means, the totals medians and 95th percentiles. Anvil 1.7.1 rebuilds its
whole state trie for every block, so the time to mine one transaction grows with the number of
records (about 45 ms at 2,000); the receipt-wait phase shows how much of an operation that is.

Writes bench/results/personal.json and bench/results/personal.png. Run:
``PATH=$PWD/node_modules/.bin:$PATH .venv/bin/python bench/personal.py`` (about 25 minutes on
2 cores; ``--quick``: 1, 10 and 100 records, about a minute; ``--long`` adds 100,000 records, hours).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from elicense import personal
from elicense.chain import Chain, account_from_key
from elicense.crypto import new_account
from elicense.nodes import LocalChain, _binary, dev_key
from elicense.personal import PersonalData
from elicense.registries.personal import PAGE
from elicense.storage import envelope
from elicense.storage.embedded import EmbeddedStore
from elicense.storage.ipfs import IpfsStore

RESULTS = Path(__file__).parent / "results"
PROJECT = Path(__file__).resolve().parents[1]
os.environ["PATH"] = f"{PROJECT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
sys.path.insert(0, str(PROJECT / "tests" / "client"))
from ipfs_node import JS_IPFS_CLI, JsIpfsNode, js_ipfs_missing  # noqa: E402  (the tests' js-ipfs daemon)

SIZES = [1, 10, 100, 1_000, 10_000]
QUICK_SIZES = [1, 10, 100]
LONG_SIZES = SIZES + [100_000]
BACKENDS = ["embedded", "ipfs"]
READS = 50  # sampled reads per size
ERASURES = 20  # sampled erasures per size
CREATES = 20  # creates timed one by one at the end of each size (the others pipelined)
WINDOW = 64  # pipelined creates in flight at most
REFERENCE = 100  # records on the reference world whose reads are interleaved with the measured ones
FIELDS = "name,email"  # what the processor lists
PURPOSE = "benchmark: municipal register"
console = Console() if sys.stdout.isatty() else Console(width=150)  # room for the tables in a log


def document(i: int) -> dict:
    return {"name": f"Subject {i:06d}", "email": f"subject{i}@example.org",
            "birthdate": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
            "city": ("Tartu", "Narva", "Tallinn", "Pärnu")[i % 4], "number": f"EE{i:08d}"}


# ------------------------------------------------------------------------------ timing

class Phases:
    """Timing wrappers around the calls an operation is made of; ``measure`` runs one operation and
    returns its wall time and the time spent in each wrapped call (the rest is ``other``)."""

    def __init__(self):
        self.spent: Counter = Counter()
        self.inner: list[float] = []  # time spent in wrapped calls made by the wrapped calls running now

    def wrap(self, owner, name: str, label: str) -> None:
        """Times ``owner.name`` as ``label``, exclusive of the wrapped calls it makes itself."""
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            self.inner.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.spent[label] += elapsed - self.inner.pop()
                if self.inner:
                    self.inner[-1] += elapsed

        setattr(owner, name, timed)

    def measure(self, operation):
        self.spent.clear()
        self.inner.clear()
        start = time.perf_counter()
        result = operation()
        wall = time.perf_counter() - start
        phases = dict(self.spent)
        phases["other"] = wall - sum(phases.values())
        return result, wall, phases


PHASES = Phases()
# the envelope functions are module-level (personal.py calls envelope.seal / envelope.open_envelope)
PHASES.wrap(envelope, "seal", "seal")
PHASES.wrap(envelope, "open_envelope", "open")


def _p95(values: list[float]) -> float:
    return sorted(values)[round(0.95 * (len(values) - 1))]


def stats(walls: list[float], phases: list[dict], gas: list[int]) -> dict:
    ms = sorted(w * 1000 for w in walls)
    labels = sorted({k for p in phases for k in p})
    # what the client does, without waiting for Anvil to mine (Chain.wait polls every 50 ms, so a
    # receipt not there at the first poll costs 50 ms more: the times are bimodal on a small chain)
    own = [1000 * (w - p.get("receipt wait", 0.0)) for w, p in zip(walls, phases)] if phases else []
    return {
        "samples": len(ms),
        "median_ms": statistics.median(ms), "p95_ms": _p95(ms), "mean_ms": statistics.fmean(ms),
        "min_ms": ms[0], "max_ms": ms[-1], "total_s": sum(walls),
        "without_receipt_wait": {"median_ms": statistics.median(own), "p95_ms": _p95(own)} if own else None,
        "receipt_first_poll_missed": sum(p.get("receipt wait", 0.0) >= 0.045 for p in phases),
        "phases_mean_ms": {k: 1000 * statistics.fmean(p.get(k, 0.0) for p in phases) for k in labels},
        "gas_median": int(statistics.median(gas)) if gas else None, "gas_min": min(gas, default=None),
        "gas_max": max(gas, default=None),
    }


# ------------------------------------------------------------------------------ the world

class World:
    """One backend: an Anvil, a PersonalDataRegistry deployed by the controller with one processor,
    the store, and the records created so far."""

    def __init__(self, backend: str, node: LocalChain, store, ipfs: JsIpfsNode | None, seed: int,
                 automine_fill: bool = False):
        self.backend, self.node, self.store, self.ipfs = backend, node, store, ipfs
        self.automine_fill = automine_fill
        self.chain = Chain(node.url)
        self.controller = account_from_key(dev_key(0))
        self.processor = account_from_key(dev_key(1))
        self.registry = personal.deploy(self.chain, self.controller)
        self.registry.grant_role(self.controller, "processor", self.processor.address)
        self.data = PersonalData(self.registry, store)
        self.data._remember(self.controller)
        self.data._remember(self.processor)
        self.subjects: list = []
        self.index: dict[str, int] = {}  # subject address -> number of its document
        self.create_seconds = 0.0  # all creates so far
        self.rng = random.Random(seed)
        for name, label in (("add", "store add"), ("get", "store get"), ("has", "store has"),
                            ("remove", "store remove")):
            PHASES.wrap(store, name, label)
        for name in ("create", "log_read", "log_reads", "erase"):
            PHASES.wrap(self.registry, name, "transaction")
        PHASES.wrap(self.registry, "signed_read", "sign")  # the reader's EIP-712 signature (and the chain's clock)
        PHASES.wrap(self.data, "sign_consent", "sign")  # the subject's EIP-712 consent
        PHASES.wrap(self.chain, "wait", "receipt wait")  # Anvil mining the block, polled every 50 ms

    def create(self, subject) -> tuple:
        doc = document(self.index[subject.address])
        return PHASES.measure(lambda: self.data.create_with_consent(self.controller, subject, doc, PURPOSE))

    def new_subject(self):
        subject = new_account()
        self.index[subject.address] = len(self.subjects)
        self.subjects.append(subject)
        return subject

    def grow(self, size: int, samples: int, progress: Progress) -> dict:
        """Creates records up to ``size``: all but the last ``samples`` pipelined (the same client
        steps as ``create_with_consent`` up to the transaction, which is submitted without waiting,
        at most WINDOW in flight), then ``samples`` one at a time through ``create_with_consent``,
        each timed with its receipt."""
        added = size - len(self.subjects)
        timed_n = min(samples, added)
        task = progress.add_task(f"{self.backend}: creating up to {size:,}", total=added)
        started, gas, inflight = time.perf_counter(), [], deque()
        batched = added - timed_n > 0 and not self.automine_fill
        if batched:
            self._rpc("evm_setAutomine", [False])
        try:
            for _ in range(added - timed_n):
                subject = self.new_subject()
                self.data._remember(subject)
                draft = self.data.draft(self.controller.address, subject.address,
                                        document(self.index[subject.address]))
                typed = self.data.consent_typed_data(draft, PURPOSE)
                signature = self.data.sign_consent(subject, typed)
                message = typed["message"]
                fn = self.registry.contract.functions.create(draft.subject, draft.cid, draft.integrity_hash,
                                                             bytes(message["purpose"]), int(message["deadline"]),
                                                             signature)
                inflight.append(self.chain.submit(fn, self.controller))
                if len(inflight) >= WINDOW:
                    gas += self._settle(inflight, batched, 0 if batched else WINDOW // 2, progress, task)
            gas += self._settle(inflight, batched, 0, progress, task)
        finally:
            if batched:
                self._rpc("evm_setAutomine", [True])
        pipelined = time.perf_counter() - started
        walls, phases, timed_gas = [], [], []
        for _ in range(timed_n):
            subject = self.new_subject()
            change, wall, split = self.create(subject)
            assert change.kind == "created" and change.version == 1
            walls.append(wall)
            phases.append(split)
            timed_gas.append(change.gas_used)
            progress.advance(task)
        progress.remove_task(task)
        self.create_seconds += pipelined + sum(walls)
        out = stats(walls, phases, timed_gas) | {
            "created_now": added, "timed_now": timed_n, "pipelined_now": len(gas),
            "total_all_records_s": self.create_seconds, "per_record_all_ms": 1000 * self.create_seconds / size}
        if gas:
            out["pipelined"] = {"records": len(gas), "seconds": pipelined, "per_record_ms": 1000 * pipelined / len(gas),
                                "records_per_second": len(gas) / pipelined, "gas_median": int(statistics.median(gas)),
                                "window": WINDOW}
        return out

    def _settle(self, inflight: deque, mine: bool, keep: int, progress: Progress, task) -> list[int]:
        """Mines the pending creates into one block (``mine``), then waits for the oldest until ``keep``
        are left in flight, checking each receipt. Returns their gas."""
        if mine and inflight:
            self._rpc("evm_mine", [])
        gas = []
        while len(inflight) > keep:
            tx = self.chain.wait(inflight.popleft())
            if len(self.registry.events(tx, "PersonalDataCreated")) != 1:
                raise SystemExit(f"pipelined create {tx.tx_hash} recorded no record")
            gas.append(tx.gas_used)
            progress.advance(task)
        return gas

    def _rpc(self, method: str, params: list):
        response = self.chain._request(method, params)
        if "error" in response:
            raise SystemExit(f"Anvil refused {method}: {response['error']}")
        return response.get("result")

    def choose(self, samples: int) -> list:
        """Subjects to read: random, without replacement when there are enough records."""
        n = len(self.subjects)
        return self.rng.sample(self.subjects, samples) if n >= samples else self.rng.choices(self.subjects, k=samples)

    def read(self, subject) -> tuple:
        """One timed read by the processor, checked; returns (wall, phases, gas, first read of the subject)."""
        unread = self.registry.record(subject.address).access_count == 0
        read, wall, split = PHASES.measure(lambda: self.data.read(self.processor, subject.address, "*"))
        if read.tampered or read.data != document(self.index[subject.address]):
            raise SystemExit(f"read of {subject.address} came back wrong: {read}")
        return wall, split, read.entry.gas_used, unread

    def listing(self, progress: Progress) -> dict:
        n = len(self.subjects)
        walls, phases, gas, sizes = [], [], [], []
        task = progress.add_task(f"{self.backend}: listing {n:,} by {FIELDS}", total=n)
        offset, seen = 0, 0
        while offset is not None:
            page, wall, split = PHASES.measure(lambda: self.data.list_by_field(self.processor, FIELDS, offset=offset))
            if any(item.tampered or item.result != "granted" or item.values is None for item in page.items):
                raise SystemExit(f"a listed record came back wrong at offset {offset}")
            walls.append(wall)
            phases.append(split)
            gas.append(page.gas_used)
            sizes.append(len(page.items))
            seen += len(page.items)
            progress.advance(task, len(page.items))
            offset = page.next_offset
        progress.remove_task(task)
        if seen != n:
            raise SystemExit(f"listed {seen} records of {n}")
        full = [i for i, s in enumerate(sizes) if s == PAGE]
        out = stats(walls, phases, gas) | {"pages": len(walls), "records_listed": seen,
                                           "records_per_page_max": max(sizes)}
        if full:  # the per-page figures of full pages only (the last page may be short)
            out["full_pages"] = stats([walls[i] for i in full], [phases[i] for i in full], [gas[i] for i in full])
        return out

    def erasures(self, samples: int, progress: Progress) -> dict:
        n = len(self.subjects)
        chosen = self.rng.sample(self.subjects, min(samples, n))
        walls, phases, gas = [], [], []
        task = progress.add_task(f"{self.backend}: erasing at {n:,}", total=len(chosen))
        for subject in chosen:
            erasure, wall, split = PHASES.measure(lambda: self.data.erase(self.controller, subject.address))
            if not erasure.complete or len(erasure.removed) != 1 or self.store.has(erasure.removed[0]):
                raise SystemExit(f"erasure of {subject.address} left files behind: {erasure}")
            walls.append(wall)
            phases.append(split)
            gas.append(erasure.change.gas_used)
            progress.advance(task)
        progress.remove_task(task)
        recreate_gas = []
        for subject in chosen:  # back to N live records and N files (not timed)
            change, _, _ = self.create(subject)
            recreate_gas.append(change.gas_used)
        return stats(walls, phases, gas) | {"recreate_gas_median": int(statistics.median(recreate_gas))}

    def held(self) -> dict:
        out = {"block_number": self.chain.w3.eth.block_number}
        if self.ipfs is not None:
            out["ipfs_blocks_on_disk"] = self.ipfs.blocks_on_disk()
        else:
            out["files"] = sum(1 for _ in self.store.pins())
        return out


@contextlib.contextmanager
def open_world(backend: str, tmp: Path, seed: int, automine_fill: bool):
    with LocalChain(kind="anvil", port=0) as node:  # a free port, never 8545; automine
        if backend == "embedded":
            yield World(backend, node, EmbeddedStore(tmp / "store"), None, seed, automine_fill)
        else:
            with JsIpfsNode(tmp / "ipfs") as ipfs, IpfsStore(ipfs.api) as store:
                yield World(backend, node, store, ipfs, seed, automine_fill)


# ------------------------------------------------------------------------------ the run

def reads(worlds: list[World], samples: int, progress: Progress) -> list[dict]:
    """``samples`` reads on each world, interleaved sample by sample (the worlds see the same moment
    of a possibly shared machine)."""
    chosen = [world.choose(samples) for world in worlds]
    got = [([], [], [], 0) for _ in worlds]
    task = progress.add_task(f"{worlds[0].backend}: reading at {len(worlds[0].subjects):,}"
                             + (f" (and at {len(worlds[1].subjects):,}, reference)" if len(worlds) > 1 else ""),
                             total=samples * len(worlds))
    for i in range(samples):
        for w, world in enumerate(worlds):
            wall, split, gas, unread = world.read(chosen[w][i])
            walls, phases, gases, first = got[w]
            walls.append(wall)
            phases.append(split)
            gases.append(gas)
            got[w] = (walls, phases, gases, first + unread)
            progress.advance(task)
    progress.remove_task(task)
    return [stats(walls, phases, gases) | {"distinct_subjects": len({s.address for s in chosen[w]}),
                                           "first_reads_of_a_subject": first}
            for w, (walls, phases, gases, first) in enumerate(got)]


def rough_seconds(sizes: list[int], automine_fill: bool) -> float:
    """A first guess for one backend, from this machine (2 cores): about 45 ms a record to create
    (plus Anvil's mining, about 20 us per record already there for each block mined), 1.5 s a page."""
    n = sizes[-1]
    per_block = 20e-6  # seconds of Anvil mining per record on the chain, per block
    mining = per_block * n * n / 2 if automine_fill else per_block * n * n / 2 / WINDOW
    blocks = sum(CREATES + 2 * READS + -(-s // PAGE) + 2 * ERASURES for s in sizes)
    return n * 0.045 + mining + -(-n // PAGE) * 1.5 + blocks * per_block * n


def _fit(levels: list[dict], figure) -> tuple[float, float]:
    """Seconds as a + b * N through the last two sizes of 100 records or more measured (flat with one;
    never decreasing); below 100, the times are mostly noise."""
    levels = [lv for lv in levels if lv["records"] >= 100] or levels[-1:]
    points = [(lv["records"], figure(lv) / 1000) for lv in levels[-2:]]
    if len(points) < 2 or points[1][0] == points[0][0]:
        return points[-1][1], 0.0
    (n0, t0), (n1, t1) = points
    slope = max(0.0, (t1 - t0) / (n1 - n0))
    return t1 - slope * n1, slope


def _create_ms(level: dict) -> float:
    """Milliseconds a record took to create at this size: pipelined when some were, else one at a time."""
    create = level["create"]
    return create["pipelined"]["per_record_ms"] if "pipelined" in create else create["median_ms"]


def estimate_left(result: dict, sizes: list[int], backends: list[str], reads: int, erasures: int) -> float | None:
    """Seconds left: each operation's time as a + b * N through the last two sizes measured (Anvil's
    time to mine a block grows with its state); a backend not started yet is taken to be like the first."""
    measured = {b: e["levels"] for b, e in result["backends"].items() if e["levels"]}
    if not measured:
        return None
    left = 0.0
    for backend in backends:
        levels = measured.get(backend) or next(iter(measured.values()))
        done = measured[backend][-1]["records"] if backend in measured else 0
        create = _fit(levels, _create_ms)
        read = _fit(levels, lambda lv: lv["read"]["median_ms"] + lv["read_reference"]["median_ms"])
        page = _fit(levels, lambda lv: lv["list"].get("full_pages", lv["list"])["median_ms"])
        erase = _fit(levels, lambda lv: lv["erase"]["median_ms"] + lv["create"]["median_ms"])
        previous = done
        for size in sizes:
            if size <= done:
                continue
            left += create[0] * (size - previous) + create[1] * (size ** 2 - previous ** 2) / 2
            left += reads * (read[0] + read[1] * size) + -(-size // PAGE) * (page[0] + page[1] * size)
            left += min(erasures, size) * (erase[0] + erase[1] * size)
            previous = size
    return left


def run(sizes: list[int], backends: list[str], creates: int, reads_n: int, erasures: int, seed: int,
        automine_fill: bool) -> dict:
    reference_size = min(REFERENCE, sizes[-1])
    result = {
        "sizes": sizes, "timed_creates_per_size": creates, "pipeline_window": WINDOW, "reads_per_size": reads_n,
        "erasures_per_size": erasures, "page": PAGE, "seed": seed,
        "reference_records": reference_size,
        "setup": "per backend one Anvil (automine, 30M gas blocks) and one store, grown from one size to the next; "
                 "PersonalDataRegistry deployed by the controller (dev account 0), processor role to dev account 1; "
                 "every subject a fresh key; files sealed for subject, controller and processor",
        "create": f"records up to N created in two ways: all but the last {creates} pipelined (draft, "
                  "consent_typed_data, sign_consent as create_with_consent does, then Chain.submit of the create "
                  "transaction without waiting; every receipt checked: create.pipelined, throughput) "
                  + (f"under automine, one create per block, at most {WINDOW} in flight" if automine_fill else
                     f"with automine paused, mined {WINDOW} creates to a block (evm_mine), automine back on after") +
                  f"; then {creates} through PersonalData.create_with_consent one at a time under automine, each timed "
                  "with its receipt (median_ms, p95_ms, phases: latency at N); total_all_records_s: every create "
                  "from 0 to N, both kinds",
        "fill": "automine, one create per block" if automine_fill else f"blocks of {WINDOW} creates",
        "read": "PersonalData.read(processor, subject, '*'): signed read, logRead transaction (processor pays), "
                "record, fetch, SHA-256 against the chain, decrypt; random subjects, without replacement from 50 "
                "records up; every read checked equal to the document",
        "list": f"PersonalData.list_by_field(processor, '{FIELDS}') over every record, {PAGE} a page: one logReads "
                "transaction per page, then fetch, tamper check and decrypt of each envelope",
        "erase": "PersonalData.erase(controller, subject): erase transaction, history of the record's files (logs), "
                 "each file removed (IPFS: pin rm + repo gc) and checked gone; then the subject is created again "
                 "(not timed) so the next size starts with N live records",
        "phases": "mean ms per operation in: seal / open (envelope crypto), store add/get/has/remove (the backend's "
                  "calls; IPFS remove = unpin + repo gc), sign (EIP-712 signature of consent or read, incl. one "
                  "eth_getBlockByNumber for the read's deadline), transaction (gas estimate, signing, sending, "
                  "receipt, event decoding), other (view calls, log queries, Python)",
        "backends": {},
    }
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    for b, backend in enumerate(backends):
        entry = result["backends"][backend] = {"levels": []}
        with tempfile.TemporaryDirectory(prefix=f"bench-personal-{backend}-") as tmp, \
                open_world(backend, Path(tmp) / "main", seed + 2 * b, automine_fill) as world, \
                open_world(backend, Path(tmp) / "reference", seed + 2 * b + 1, automine_fill) as reference, \
                Progress(*columns, console=console, transient=True) as progress:
            entry["store"] = repr(world.store)
            reference.grow(reference_size, creates, progress)
            entry["reference_records"] = reference_size
            for size in sizes:
                load = os.getloadavg()[0]
                level = {"records": size, "create": world.grow(size, creates, progress)}
                level["read"], level["read_reference"] = reads([world, reference], reads_n, progress)
                level["list"] = world.listing(progress)
                level["erase"] = world.erasures(erasures, progress)
                level |= world.held()
                level["load_average_1m"] = [load, os.getloadavg()[0]]
                entry["levels"].append(level)
                page = level["list"].get("full_pages", level["list"])
                left = estimate_left(result, sizes, backends, reads_n, erasures)
                console.print(
                    f"{backend}: {size:>7,} records: create {level['create']['median_ms']:.1f} ms "
                    f"(all {level['create']['total_all_records_s']:.1f} s), read {level['read']['median_ms']:.1f} ms, "
                    f"page {page['median_ms']:.0f} ms (all {level['list']['total_s']:.1f} s), "
                    f"erase {level['erase']['median_ms']:.1f} ms; {time.perf_counter() - started:.0f} s so far"
                    + (f", about {left / 60:.0f} min left" if left else ""))
    for entry in result["backends"].values():
        first, last = entry["levels"][0], entry["levels"][-1]
        entry["read_flatness"] = {
            "compared": f"median read at {last['records']:,} / at {first['records']:,} records, as the registry grew",
            "ratio": last["read"]["median_ms"] / first["read"]["median_ms"],
            "ratio_without_receipt_wait": (last["read"]["without_receipt_wait"]["median_ms"]
                                           / first["read"]["without_receipt_wait"]["median_ms"]),
            "against_reference": {f"{lv['records']}": lv["read"]["median_ms"] / lv["read_reference"]["median_ms"]
                                  for lv in entry["levels"]},
        }
    return result


# ------------------------------------------------------------------------------ records of the run

def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    except Exception:  # noqa: BLE001 - only for the record
        return "unknown"


def machine() -> dict:
    def dist(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    try:
        js_ipfs = json.loads((JS_IPFS_CLI.parents[1] / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        js_ipfs = None
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(), "cpu": cpu,
            "anvil": _version([_binary("anvil"), "--version"]), "node": _version(["node", "--version"]),
            "js_ipfs": js_ipfs, "packages": {n: dist(n) for n in ("elicense", "web3", "eth-account", "ipfshttpclient",
                                                                  "coincurve", "eciespy", "cryptography")}}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    panels = [("create", "create, one at a time (seal, store, consent, transaction)", False),
              ("read", f"read ({result['reads_per_size']} random subjects a size)", False),
              ("list", f"list by field: one full page of {PAGE} (N ≥ {PAGE})", False),
              ("erase", f"erase: chain + store removal ({result['erasures_per_size']} a size)", True)]
    colours = {"embedded": "tab:blue", "ipfs": "tab:orange"}
    for ax, (op, title, log_y) in zip(axes.flat, panels):
        for backend, entry in result["backends"].items():
            levels = [lv for lv in entry["levels"] if op != "list" or "full_pages" in lv["list"]]
            xs = [lv["records"] for lv in levels]
            figures = [lv[op]["full_pages"] if op == "list" else lv[op] for lv in levels]
            colour = colours.get(backend)
            ax.plot(xs, [f["median_ms"] for f in figures], "o-", color=colour, label=f"{backend}: median")
            ax.plot(xs, [f["p95_ms"] for f in figures], "s--", color=colour, alpha=0.5, label=f"{backend}: p95")
            ax.plot(xs, [f["without_receipt_wait"]["median_ms"] for f in figures], "x-.", color=colour, alpha=0.9,
                    label=f"{backend}: median without the receipt wait")
            if op == "read":
                ax.plot(xs, [lv["read_reference"]["median_ms"] for lv in levels], "o:", mfc="none", color=colour,
                        alpha=0.8, label=f"{backend}: median on a {entry['reference_records']:,}-record reference, "
                                         "same moment")
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.set_xlabel("records in the registry (N)")
        ax.set_ylabel("ms")
        ax.set_title(title, fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.suptitle("Personal data (PersonalDataRegistry on Anvil): time per operation against N\n"
                 "receipt wait = Anvil mining the transaction's block (grows with its state), polled every 50 ms",
                 fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def print_table(result: dict) -> None:
    times = Table("backend", "N", "create ms\nmed / p95", "create\nall s", "read ms\nmed / p95", "read ms, ref.\nmed",
                  "read ms,\nno wait", "page ms\nmed", "list\nall s", "erase ms\nmed / p95",
                  title="Personal data: time per operation")
    gas = Table("backend", "N", "create", "read", "page of 100", "erase", "create again", title="gas (medians)")
    for backend, entry in result["backends"].items():
        for lv in entry["levels"]:
            c, r, li, e = lv["create"], lv["read"], lv["list"], lv["erase"]
            page = li.get("full_pages", li)
            times.add_row(backend, f"{lv['records']:,}", f"{c['median_ms']:.1f} / {c['p95_ms']:.1f}",
                          f"{c['total_all_records_s']:.1f}", f"{r['median_ms']:.1f} / {r['p95_ms']:.1f}",
                          f"{lv['read_reference']['median_ms']:.1f}", f"{r['without_receipt_wait']['median_ms']:.1f}",
                          f"{page['median_ms']:.0f}", f"{li['total_s']:.1f}",
                          f"{e['median_ms']:.1f} / {e['p95_ms']:.1f}")
            gas.add_row(backend, f"{lv['records']:,}", f"{c['gas_median']:,}", f"{r['gas_median']:,}",
                        f"{page['gas_median']:,}", f"{e['gas_median']:,}", f"{e['recreate_gas_median']:,}")
    console.print(times)
    console.print(gas)
    for backend, entry in result["backends"].items():
        flat = entry["read_flatness"]
        console.print(f"{backend}: read flatness, {flat['compared']}: {flat['ratio']:.2f} "
                      f"({flat['ratio_without_receipt_wait']:.2f} without the receipt wait); against the "
                      f"{entry['reference_records']:,}-record reference at the same moment: "
                      + ", ".join(f"{int(n):,}: {x:.2f}" for n, x in flat["against_reference"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1, 10 and 100 records (a check of the script)")
    size.add_argument("--long", action="store_true", help="also 100,000 records (hours)")
    size.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="e.g. 1,10,100")
    parser.add_argument("--backends", default="embedded,ipfs", help="embedded, ipfs or both (default embedded,ipfs)")
    parser.add_argument("--creates", type=int, default=CREATES,
                        help=f"creates timed one at a time per size, the others pipelined (default {CREATES})")
    parser.add_argument("--automine-fill", action="store_true",
                        help="fill under automine too (one create per block; Anvil 1.7.1 then makes 10,000 records "
                             "take about 20 minutes per backend) instead of blocks of 64")
    parser.add_argument("--reads", type=int, default=READS, help=f"reads sampled per size (default {READS})")
    parser.add_argument("--erasures", type=int, default=ERASURES,
                        help=f"erasures sampled per size (default {ERASURES})")
    parser.add_argument("--seed", type=int, default=3, help="seed of the random choice of subjects")
    parser.add_argument("--out", type=Path, default=RESULTS / "personal.json",
                        help="where to write the JSON (the PNG goes next to it); default bench/results/personal.json")
    parser.add_argument("--replot", action="store_true",
                        help="only redraw the PNG and print the tables from the JSON at --out (no measuring)")
    args = parser.parse_args()
    if args.replot:
        result = json.loads(args.out.read_text())
        plot(result, args.out.with_suffix(".png"))
        print_table(result)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `kill PID` still stops the Anvils and js-ipfs
    sizes = args.sizes or (QUICK_SIZES if args.quick else LONG_SIZES if args.long else SIZES)
    if sorted(set(sizes)) != sizes or sizes[0] < 1:
        parser.error("sizes are increasing positive numbers")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or any(b not in BACKENDS for b in backends):
        parser.error(f"backends: {', '.join(BACKENDS)}")
    if "ipfs" in backends and (reason := js_ipfs_missing()):
        parser.error(f"the IPFS backend needs js-ipfs: {reason}")
    if args.reads < 2 or args.erasures < 1 or args.creates < 1:
        parser.error("at least 1 timed create, 2 reads and 1 erasure per size")
    guess = len(backends) * rough_seconds(sizes, args.automine_fill)
    console.print(f"sizes {', '.join(f'{s:,}' for s in sizes)} on {', '.join(backends)}: "
                  f"{len(backends) * sizes[-1]:,} records; expect roughly {guess / 60:.0f} min on 2 cores "
                  "(an estimate from what is measured is printed after each size)")
    started = time.perf_counter()
    result = {"command": " ".join(["bench/personal.py", *sys.argv[1:]])}
    result |= run(sizes, backends, args.creates, args.reads, args.erasures, args.seed, args.automine_fill)
    result["run_seconds"] = time.perf_counter() - started
    result["machine"] = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print_table(result)
    console.print(f"run time {result['run_seconds']:.0f} s; wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
