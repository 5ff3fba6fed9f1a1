"""Verification time of a scanned QR code, measured on a real Anvil as the chain grows to 100,000 licences.

The timed operation is what an inspector's device does with the text of a scanned QR code:
``client.check(None, None, qr_text, record=False)`` (decode, resolve the registry and, for a batched
licence, the leaf and proof from the batch's bundle, check the holder's signature, the data, the
status and the issuer's accreditation at issuance; nothing is sent). Every timed verdict must be
valid: a refusal stops the run.

* the chain grows to 1,000, 10,000 and 100,000 licences issued (mostly in batches of 1,000, plus a
  few single licences at each level); at each level, N verifications of a single licence and N of a
  batched one: median and 95th percentile (target: median <= 20 ms, flat in the number of licences);
* each sample verifies a fresh presentation (a new nonce and signature, as a wallet shows a new
  QR code each time), prepared outside the timed region;
* the batched samples cover the first batch ever issued and the newest one; the bundle of each is
  loaded once per inspector (a fresh inspector at each level) before timing, and that first, cold
  verification is reported on its own;
* JSON-RPC requests per verification, counted on an untimed run (constant if nothing scans logs);
* a control for a shared host: a second Anvil kept at 1,000 licences, verified interleaved with the
  last level (flatness.interleaved), besides the ratio over the growth run.

Writes bench/results/verify.json and bench/results/verify.png. Run: `.venv/bin/python bench/verify.py`
(about five minutes for 100,000 licences on 2 cores; `--quick`: 1,000 and 10,000 licences, fewer samples).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from elicense.batch import BatchRow, Bundle
from elicense.chain import Chain, account_from_key
from elicense.client import Client, QueriedLicence
from elicense.crypto import new_account
from elicense.nodes import LocalChain, _binary, dev_key
from elicense.store import DocumentStore
from elicense.wallet import Wallet

RESULTS = Path(__file__).parent / "results"
PROJECT = Path(__file__).resolve().parents[1]
os.environ["PATH"] = f"{PROJECT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
LEVELS = [1_000, 10_000, 100_000]
QUICK_LEVELS = [1_000, 10_000]
TARGET_MS = 20.0
BATCH = 1_000  # licences per issueBatch transaction
SINGLES_PER_LEVEL = 10  # single licences (one transaction each) issued at each level
HOLDERS = 50  # registered holders, cycling over the rows
TTL = 3_600  # presentations are prepared before timing; long enough to outlive the run of a level
CODE = "EDU-VERIFY"
FIELDS = {"name": "Student Example", "degree": "BSc", "programme": "Chemistry", "conferred": "2026-06-01"}
console = Console()


class World:
    """One Anvil with every contract deployed, an accredited agency, registered holders and an
    inspector; grows the number of licences issued and keeps what the presentations need."""

    def __init__(self, node: LocalChain, store: Path, tmp: Path):
        self.authorities = [account_from_key(dev_key(i)) for i in range(3)]
        self.client = Client.connect(node.url, sender=self.authorities[0], deployments_dir=tmp / "deployments",
                                     wallet=Wallet(tmp / "keystore"), store=DocumentStore(store))
        self.client.deploy_all(authorities=[a.address for a in self.authorities])
        signer = new_account()
        self.client.register_user("signer", "issuer", account=signer)
        proposal = self.client.issuers.propose_add_agency(self.authorities[0], CODE, "Verify Bench University",
                                                          [signer.address], ["degree"])
        self.client.issuers.approve(self.authorities[1], proposal.proposal_id)
        self.agency = self.client.with_sender(signer)
        self.people = [new_account() for _ in range(HOLDERS)]
        for i, person in enumerate(self.people):
            self.client.register_user(f"h{i}", "holder", account=person)
        self.by_address = {p.address: p for p in self.people}
        self.inspector = new_account()
        self.client.register_user("inspector", "inspector", account=self.inspector)
        self.agency.authorise_inspector("degree", self.inspector.address)
        self.registry = self.agency.licences("degree")
        self.issued = 0
        self.singles: list[QueriedLicence] = []
        self.batches: list = []  # (IssuedBatch, Bundle), in issuing order

    def grow(self, level: int, progress: Progress) -> int:
        """Issues licences until ``level`` have been issued: batches of up to BATCH, then
        SINGLES_PER_LEVEL single licences (so the newest single licence is the newest licence).
        Returns the number of batches sent."""
        rows_wanted = level - self.issued - SINGLES_PER_LEVEL
        task = progress.add_task(f"issuing up to {level:,}", total=level - self.issued)
        batches = 0
        while rows_wanted > 0:
            n = min(BATCH, rows_wanted)
            rows = [BatchRow(self.people[(self.issued + i) % HOLDERS].address,
                             dict(FIELDS, number=str(self.issued + i))) for i in range(n)]
            self.batches.append((self.agency.issue_batch("degree", CODE, rows), None))
            self.issued += n
            rows_wanted -= n
            batches += 1
            progress.advance(task, n)
        for _ in range(SINGLES_PER_LEVEL):
            holder = self.people[self.issued % HOLDERS]
            licence = self.agency.send_certification(holder.address, CODE, "degree",
                                                     dict(FIELDS, number=str(self.issued)))
            self.singles.append(self.client.query_licence(holder.address, licence.block_number, licence.tx_hash))
            self.issued += 1
            progress.advance(task)
        progress.remove_task(task)
        return batches

    def bundle(self, index: int) -> Bundle:
        """The bundle of batch ``index`` (read from the store once; for preparing presentations)."""
        issued, bundle = self.batches[index]
        if bundle is None:
            bundle = Bundle.from_bytes(self.client.store.get(issued.bundle_hash))
            self.batches[index] = (issued, bundle)
        return bundle

    def batched(self, batch_index: int, entry_index: int) -> QueriedLicence:
        """What ``licences_of`` would return for one batched licence, without reading every batch."""
        issued, _ = self.batches[batch_index]
        return self.client._batched(self.registry, issued, self.bundle(batch_index).entry(entry_index))

    def present(self, licence: QueriedLicence) -> str:
        return self.client.present_qr(self.by_address[licence.holder], licence, ttl=TTL)

    def inspector_client(self) -> Client:
        """A new inspector: its own connection, client and caches (no batch bundle loaded yet), the same
        deployment and document store."""
        return Client(Chain(self.client.chain.url), sender=self.inspector, deployment=self.client.deployment,
                      store=self.client.store, wallet=self.client.wallet)


def verify_once(inspector: Client, qr_text: str) -> tuple[float, float]:
    """One timed verification: (wall-clock ms, this process's CPU ms). A refusal stops the run."""
    wall, cpu = time.perf_counter(), time.process_time()
    verdict = inspector.check(None, None, qr_text, record=False)
    wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
    if not verdict.valid:
        step = verdict.failed_step
        raise SystemExit(f"a timed verification was refused ({step.name}: {step.code}: {step.reason}); "
                         f"the benchmark measures valid presentations only")
    return wall, cpu


def count_requests(inspector: Client, qr_text: str) -> dict[str, int]:
    """JSON-RPC requests one verification sends to the node, by method (an untimed run; counted where
    web3's HTTP provider posts them, so answers web3 caches itself are not counted)."""
    provider = inspector.chain.w3.provider
    counts: Counter = Counter()
    post = provider._make_request

    def counting(method, request_data):
        counts[method] += 1
        return post(method, request_data)

    provider._make_request = counting
    try:
        verify_once(inspector, qr_text)
    finally:
        del provider._make_request
    return dict(sorted(counts.items()))


def stats(samples: list[float], cpu: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": statistics.median(ordered), "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
            "min_ms": ordered[0], "max_ms": ordered[-1], "mean_ms": statistics.fmean(ordered),
            "cpu_median_ms": statistics.median(cpu)}


def prepare(world: World, samples: int, progress: Progress) -> dict:
    """A new inspector, its first (untimed) verifications, and ``samples`` fresh QR texts per kind."""
    singles = [world.singles[i % len(world.singles)] for i in range(samples)]  # oldest to newest, in turn
    targets = sorted({0, len(world.batches) - 1})  # the first batch and the newest, in turn
    batched = []
    for i in range(samples):
        index = targets[i % len(targets)]
        batched.append(world.batched(index, (i * 37) % world.batches[index][0].count))
    licences = {"single": singles, "batched": batched}
    task = progress.add_task("preparing presentations", total=2 * samples)
    qr = {kind: [] for kind in licences}
    for kind, chosen in licences.items():
        for licence in chosen:
            qr[kind].append(world.present(licence))
            progress.advance(task)
    progress.remove_task(task)
    inspector = world.inspector_client()
    # Not among the samples: the inspector's first verification, and the first of each batch (which
    # reads and parses the batch's bundle from the store; the inspector keeps it).
    first = {"single": [verify_once(inspector, world.present(singles[0]))[0]],
             "batched": [verify_once(inspector, world.present(world.batched(b, 1)))[0] for b in targets]}
    described = {"single": f"{len(world.singles)} single licences, oldest to newest, in turn",
                 "batched": f"licences of batch #{targets[0] + 1}" + (
                     f" and of batch #{targets[-1] + 1} (the newest), in turn" if len(targets) > 1 else "")}
    return {"world": world, "inspector": inspector, "qr": qr, "first": first, "described": described}


def measure(worlds: dict[str, World], samples: int, progress: Progress) -> dict[str, dict]:
    """For each world, N verifications of single licences and N of batched ones, each of a fresh
    presentation prepared beforehand; every world and kind in turn, sample by sample, so all see
    the same machine (this host may be shared)."""
    ready = {name: prepare(world, samples, progress) for name, world in worlds.items()}
    times = {(name, kind): ([], []) for name in ready for kind in ("single", "batched")}
    task = progress.add_task("verifying", total=len(times) * samples)
    for i in range(samples):
        for (name, kind), (walls, cpus) in times.items():
            wall, cpu = verify_once(ready[name]["inspector"], ready[name]["qr"][kind][i])
            walls.append(wall)
            cpus.append(cpu)
            progress.advance(task)
    progress.remove_task(task)
    results = {}
    for (name, kind), (walls, cpus) in times.items():
        r = ready[name]
        results.setdefault(name, {})[kind] = stats(walls, cpus) | {
            "samples": samples, "targets": r["described"][kind], "first_verification_ms": r["first"][kind],
            "requests": count_requests(r["inspector"], r["world"].present(r["world"].singles[-1]) if kind == "single"
                                       else r["world"].present(r["world"].batched(0, 2))),
            "all_ms": walls,
        }
    return results


def anvil_version() -> str:
    try:
        done = subprocess.run([_binary("anvil"), "--version"], capture_output=True, text=True, timeout=10)
        return done.stdout.strip().splitlines()[0]
    except Exception:  # noqa: BLE001 - only for the record
        return "unknown"


def run(levels: list[int], samples: int) -> dict:
    result = {"levels": [], "samples": samples, "target_median_ms": TARGET_MS, "batch_size": BATCH,
              "singles_per_level": SINGLES_PER_LEVEL, "holders": HOLDERS,
              "timed_operation": "client.check(None, None, qr_text, record=False): an inspector verifying a scanned QR "
                                 "code without recording it; every timed verdict valid",
              "presentation": "fresh per sample (new nonce and signature), prepared outside the timed region",
              "order": "single and batched samples interleaved, one inspector client for both; at the last level "
                       "also interleaved with a reference chain kept at the first level (flatness.interleaved)",
              "cache": "a new inspector client per level; its first verification and the first of each batch (which "
                       "reads the batch's bundle from the store, then kept by the client) are first_verification_ms, "
                       "not among the samples; single licences need no cache",
              "requests": "JSON-RPC requests one verification sends to the node, by method (untimed run)"}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        world = World(stack.enter_context(LocalChain(kind="anvil", port=0)), tmp / "store", tmp / "main")
        # A control for a shared host: a second chain kept at the first level, measured interleaved
        # with the grown chain at the last level.
        reference = None
        if len(levels) > 1:
            reference = World(stack.enter_context(LocalChain(kind="anvil", port=0)), tmp / "ref-store", tmp / "ref")
        with Progress(console=console, transient=True) as progress:
            if reference is not None:
                reference.grow(levels[0], progress)
            for level in levels:
                before = world.issued
                started = time.perf_counter()
                grown = world.grow(level, progress)
                seconds = time.perf_counter() - started
                load = os.getloadavg()[0]
                worlds = {"grown": world} | ({"reference": reference} if level == levels[-1] and reference else {})
                measured = measure(worlds, samples, progress)
                kinds = measured["grown"]
                entry = {"licences": level, "issued_now": level - before, "issue_seconds": seconds,
                         "issue_licences_per_second": (level - before) / seconds, "batches_now": grown,
                         "batches_total": len(world.batches), "singles_total": len(world.singles),
                         "block_number": world.client.chain.w3.eth.block_number,
                         "load_average_1m": [load, os.getloadavg()[0]],  # before and after measuring (shared host?)
                         "kinds": kinds}
                result["levels"].append(entry)
                console.print(f"{level:>7,} licences (issued {level - before:,} in {seconds:.1f} s, "
                              f"{(level - before) / seconds:,.0f}/s): single median "
                              f"{kinds['single']['median_ms']:.1f} ms, batched median "
                              f"{kinds['batched']['median_ms']:.1f} ms")
                if "reference" in measured:
                    result["reference"] = {"licences": levels[0], "kinds": measured["reference"],
                                           "measured": f"interleaved with the {level:,}-licence samples, "
                                                       f"on its own Anvil"}
    first, last = result["levels"][0], result["levels"][-1]
    result["flatness"] = {
        "compared": f"median at {last['licences']:,} / median at {first['licences']:,} licences, as the chain grew",
        **{k: last["kinds"][k]["median_ms"] / first["kinds"][k]["median_ms"] for k in ("single", "batched")},
    }
    if "reference" in result:
        ref = result["reference"]["kinds"]
        result["flatness"]["interleaved"] = {
            "compared": f"median at {last['licences']:,} / median on a {first['licences']:,}-licence chain, "
                        f"measured at the same time",
            **{k: last["kinds"][k]["median_ms"] / ref[k]["median_ms"] for k in ("single", "batched")},
        }
    result["meets_target"] = all(e["kinds"][k]["median_ms"] <= TARGET_MS for e in result["levels"] for k in e["kinds"])
    return result


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    levels = [entry["licences"] for entry in result["levels"]]
    for kind, colour in (("single", "tab:blue"), ("batched", "tab:orange")):
        left.semilogx(levels, [e["kinds"][kind]["median_ms"] for e in result["levels"]], "o-", color=colour,
                      label=f"{kind}: median")
        left.semilogx(levels, [e["kinds"][kind]["p95_ms"] for e in result["levels"]], "s--", color=colour,
                      label=f"{kind}: p95")
    if "reference" in result:
        ref = result["reference"]
        for kind, colour in (("single", "tab:blue"), ("batched", "tab:orange")):
            left.plot([ref["licences"]], [ref["kinds"][kind]["median_ms"]], "o", mfc="none", ms=10, color=colour,
                      label=f"{kind}: median, {ref['licences']:,}-licence chain alongside")
    target = result["target_median_ms"]
    left.axhline(target, color="red", ls=":", label=f"target median: {target:g} ms")
    highest = max(e["kinds"][k]["p95_ms"] for e in result["levels"] for k in e["kinds"])
    left.set_ylim(0, max(highest, target) * 1.6)  # room for the legend
    left.set_xlabel("licences issued on the chain")
    left.set_ylabel("verification time (ms)")
    left.set_title("QR verification time (check, not recorded)")
    left.legend(fontsize="x-small", ncol=2, loc="upper center")
    styles = ["-", "--", ":", "-."]
    for i, entry in enumerate(result["levels"]):
        for kind, colour in (("single", "tab:blue"), ("batched", "tab:orange")):
            xs = sorted(entry["kinds"][kind]["all_ms"])
            right.plot(xs, [(j + 1) / len(xs) for j in range(len(xs))], styles[i % len(styles)], color=colour,
                       label=f"{kind}, {entry['licences']:,} licences")
    right.set_xlabel("verification time (ms)")
    right.set_ylabel("share of verifications")
    right.set_title(f"Distribution ({result['samples']} samples each)")
    right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 licences only, 50 samples")
    parser.add_argument("--samples", type=int, help="verifications per level and kind (default 200; 50 with --quick)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `kill PID` still stops the Anvil it started
    levels = QUICK_LEVELS if args.quick else LEVELS
    samples = args.samples or (50 if args.quick else 200)
    if samples < 2:
        parser.error("--samples must be at least 2")
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    result = run(levels, samples)
    result["run_seconds"] = time.perf_counter() - started
    result["machine"] = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                         "node": anvil_version()}
    (RESULTS / "verify.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RESULTS / "verify.png")
    table = Table("licences", "kind", "median ms", "p95 ms", "CPU ms", "first ms", "RPCs",
                  title=f"QR verification, {samples} fresh presentations a row (target: median <= {TARGET_MS:g} ms)")
    rows = [(f"{e['licences']:,}", e["kinds"]) for e in result["levels"]]
    if "reference" in result:
        rows.append((f"{result['reference']['licences']:,} (ref.)", result["reference"]["kinds"]))
    for licences, kinds in rows:
        for kind in ("single", "batched"):
            k = kinds[kind]
            table.add_row(licences, kind, f"{k['median_ms']:.1f}", f"{k['p95_ms']:.1f}",
                          f"{k['cpu_median_ms']:.1f}", " / ".join(f"{f:.0f}" for f in k["first_verification_ms"]),
                          str(sum(k["requests"].values())))
    console.print(table)
    flat = result["flatness"]
    console.print(f"flatness, {flat['compared']}: single {flat['single']:.2f}, batched {flat['batched']:.2f}")
    if "interleaved" in flat:
        same = flat["interleaved"]
        console.print(f"flatness, {same['compared']} (ref.): "
                      f"single {same['single']:.2f}, batched {same['batched']:.2f}")
    console.print(f"target median <= {TARGET_MS:g} ms: {'met' if result['meets_target'] else 'NOT met'}")
    console.print(f"run time {result['run_seconds']:.0f} s; "
                  f"wrote {RESULTS / 'verify.json'} and {RESULTS / 'verify.png'}")


if __name__ == "__main__":
    main()
