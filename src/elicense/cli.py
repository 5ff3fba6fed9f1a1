"""`elicense` command line: parse, call the client, render. Every user error is one line, exit 1."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import types
from .chain import account_from_key
from .client import Client
from .errors import ElicenseError, InvalidInput
from .files import write_private
from .wallet import Wallet

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


class Context:
    def __init__(self, rpc, deployments, keystore, account, password, password_file, dev_account, topology=None,
                 store=None, storage=None):
        self.rpc, self.account_name, self.dev_account = rpc, account, dev_account
        self.deployments = Path(deployments) if deployments else None
        self.topology_path = Path(topology) if topology else None
        self.store = store
        self.storage = storage  # off-chain files (attachments): a folder or an IPFS API address
        self.wallet = Wallet(keystore)
        self._password, self._password_file = password, password_file
        self._client = None

    def password(self, confirm: bool = False) -> str:
        if self._password_file:
            return Path(self._password_file).read_text().strip()
        if self._password:
            return self._password
        if not sys.stdin.isatty():
            raise InvalidInput("a keystore password is needed: set ELICENSE_PASSWORD or pass --password-file")
        return click.prompt("keystore password", hide_input=True, confirmation_prompt=confirm)

    def sender(self):
        if self.dev_account is not None:
            from .nodes import dev_key

            return account_from_key(dev_key(self.dev_account))
        if self.account_name:
            return self.wallet.load(self.account_name, self.password())
        return None

    @property
    def client(self) -> Client:
        if self._client is None:
            from .store import DocumentStore

            store = DocumentStore(self.store)
            storage = None
            if self.storage:
                from .storage import open_store

                storage = open_store(self.storage)
            if self.topology_path is not None:
                self._client = Client.from_topology(self.topology_path, sender=self.sender(), wallet=self.wallet,
                                                    store=store, storage=storage)
            else:
                self._client = Client.connect(self.rpc, sender=self.sender(), deployments_dir=self.deployments,
                                              wallet=self.wallet, store=store, storage=storage)
        return self._client


pass_ctx = click.make_pass_decorator(Context)


def parse_time(value: str | None, default: int | None = None) -> int | None:
    return default if value is None else types.parse_time(value)


def parse_fields(pairs: tuple[str, ...], data_file: str | None) -> dict:
    fields = {}
    if data_file:
        try:
            fields = json.loads(Path(data_file).read_text() if data_file != "-" else sys.stdin.read())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read licence data from {data_file}: {exc}") from None
        if not isinstance(fields, dict):
            raise InvalidInput(f"{data_file} must hold a JSON object of field names to values")
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"malformed field {pair!r}: use NAME=VALUE")
        fields[name] = value
    return fields


def show(obj) -> None:
    """Prints a result as JSON, so scripts can read it as well as people."""
    from dataclasses import asdict, is_dataclass

    def default(o):
        if is_dataclass(o):
            return asdict(o)
        if isinstance(o, (bytes, bytearray)):
            return "0x" + bytes(o).hex()
        return str(o)

    data = asdict(obj) if is_dataclass(obj) else obj
    data = {k: v for k, v in data.items() if k != "logs"} if isinstance(data, dict) else data
    click.echo(json.dumps(data, indent=2, default=default))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--rpc", envvar="ELICENSE_RPC", default="http://127.0.0.1:8545", show_default=True,
              help="JSON-RPC URL of the chain (Anvil, Ganache or a real network).")
@click.option("--deployments", envvar="ELICENSE_DEPLOYMENTS", help="Folder of per-chain deployment files [./deployments].")
@click.option("--keystore", envvar="ELICENSE_KEYSTORE", help="Folder of encrypted account keystores [~/.elicense/keystore].")
@click.option("--account", "-a", envvar="ELICENSE_ACCOUNT", help="Sign with this keystore account.")
@click.option("--password", envvar="ELICENSE_PASSWORD", help="Keystore password (prefer the environment variable).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False), help="Read the keystore password from a file.")
@click.option("--dev-account", type=int, help="Sign with development account N of a local Anvil/Ganache (test mnemonic).")
@click.option("--topology", envvar="ELICENSE_TOPOLOGY", type=click.Path(dir_okay=False),
              help="Topology file naming the main chain and side chains (instead of --rpc/--deployments).")
@click.option("--store", envvar="ELICENSE_STORE", help="Folder of the content-addressed document store [~/.elicense/store].")
@click.option("--storage", help="Off-chain storage of attachments: a folder, or an IPFS node's API "
                                "(/ip4/127.0.0.1/tcp/5001) [$ELICENSE_IPFS_API, else $ELICENSE_STORAGE or "
                                "~/.elicense/storage].")
@click.pass_context
def cli(ctx, rpc, deployments, keystore, account, password, password_file, dev_account, topology, store, storage):
    """Electronic licences on Ethereum: register, issue, renew, revoke, present and check.

    Agencies issue licences encrypted to a holder's registered public key; holders present them
    with a fresh signature; inspectors check them, and every check is recorded on chain."""
    ctx.obj = Context(rpc, deployments, keystore, account, password, password_file, dev_account, topology, store,
                      storage)


# ---------------------------------------------------------------------- set-up


@cli.command()
@click.option("--type", "cert_types", multiple=True, help="Certificate types to deploy a registry for [all five].")
@click.option("--authority", "authorities", multiple=True, help="Founding governing authority [the signing account].")
@click.option("--relayer", "relayers", multiple=True, help="Relayer address (with --topology; at least one).")
@pass_ctx
def deploy(ctx, cert_types, authorities, relayers):
    """Deploy the contracts: on one chain (--rpc), or on every chain of a topology file (--topology),
    whose deployment records are then written back into the file."""
    if ctx.topology_path is None:
        show(ctx.client.deploy_all(cert_types or None, list(authorities) or None))
        return
    from .deploy import deploy_topology
    from .topology import Topology

    topology = Topology.load(ctx.topology_path)
    signer = ctx.sender()
    if signer is None:
        raise InvalidInput("deploying needs a signing account: pass --account NAME (or --dev-account N)")
    if topology.is_split and not relayers:
        raise InvalidInput("a split topology needs relayers: pass --relayer ADDRESS (more than half must sign each checkpoint)")
    deploy_topology(topology, signer, list(authorities) or [signer.address],
                    [types.address(r, "relayer address") for r in relayers])
    topology.save(ctx.topology_path)
    show({name: e.deployment.to_json() for name, e in topology.chains.items()})


@cli.command()
@click.option("--interval", default=2.0, show_default=True, help="Seconds between rounds.")
@click.option("--once", is_flag=True, help="Run one round and stop.")
@click.option("--confirmations", default=0, show_default=True, help="Blocks to wait before a block is checkpointed.")
@click.option("--key", "key_names", multiple=True, help="Relayer keystore account (repeat for each key held).")
@click.option("--dev-key", "dev_keys", multiple=True, type=int, help="Relayer development account N (local chains).")
@pass_ctx
def relay(ctx, interval, once, confirmations, key_names, dev_keys):
    """Run the relayer: watch every chain of the topology, sign checkpoints, submit them.

    Safe to kill at any moment: on restart it resumes from what the chains have anchored."""
    import signal
    import threading

    from .nodes import dev_key
    from .relay import Relayer
    from .topology import Topology

    if ctx.topology_path is None:
        raise InvalidInput("the relayer needs a topology: pass --topology FILE")
    keys = [account_from_key(dev_key(i)) for i in dev_keys]
    keys += [ctx.wallet.load(name, ctx.password()) for name in key_names]
    relayer = Relayer(Topology.load(ctx.topology_path), keys, confirmations=confirmations, console=console)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"relaying {len(relayer.topology.relays)} routes with {len(keys)} key(s) every {interval:g} s")
    try:
        relayer.run(interval, stop, rounds=1 if once else None)
    except KeyboardInterrupt:
        pass


@cli.command()
@click.argument("source")
@click.argument("destination")
@click.option("--relayer", "new_set", multiple=True, required=True, help="Address of the new set (repeat for each).")
@click.option("--key", "key_names", multiple=True, help="Current relayer keystore account that signs (repeat).")
@click.option("--dev-key", "dev_keys", multiple=True, type=int, help="Current relayer development account N that signs.")
@click.option("--signature", "signatures", multiple=True, help="A signature collected from another current relayer (hex).")
@click.option("--sign-only", is_flag=True, help="Print this side's signatures instead of sending the change.")
@pass_ctx
def relayers(ctx, source, destination, new_set, key_names, dev_keys, signatures, sign_only):
    """Replace the relayers that anchor chain SOURCE on chain DESTINATION. More than half of the
    current relayers must sign the new set (the owner cannot); anyone sends it and pays the gas."""
    from .nodes import dev_key
    from .relay import relayer_change
    from .topology import Topology

    if ctx.topology_path is None:
        raise InvalidInput("changing relayers needs a topology: pass --topology FILE")
    keys = [account_from_key(dev_key(i)) for i in dev_keys]
    keys += [ctx.wallet.load(name, ctx.password()) for name in key_names]
    collected = [types.hex_bytes(s, "signature") for s in signatures]
    submitter = None if sign_only else (ctx.sender() or (keys[0] if keys else None))
    if not sign_only and submitter is None:
        raise InvalidInput("sending the change needs an account to pay for it: pass --account NAME or --key NAME")
    result = relayer_change(Topology.load(ctx.topology_path), source, destination, list(new_set), keys, collected,
                            submitter)
    show({"signatures": ["0x" + s.hex() for s in result]} if sign_only else result)


@cli.command("issue-batch")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@click.option("--type", "cert_type", required=True, help="Certificate type.")
@click.option("--agency", required=True, help="Organisation code of the issuing agency (the signing account's).")
@click.option("--batch-size", default=1000, show_default=True, help="Licences per transaction (one Merkle root each).")
@pass_ctx
def issue_batch(ctx, csv_file, cert_type, agency, batch_size):
    """Issue every row of CSV_FILE: a 'holder' column, optional 'valid_from'/'valid_until', and one
    column per licence field. Interrupted, run it again: it resumes where it stopped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .batch import issue_csv

    with Progress(TextColumn("[bold]issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("issue", total=None)

        def advance(n):
            if bar.tasks[0].total is None:
                bar.update(task, total=_count_rows(csv_file))
            bar.advance(task, n)

        result = issue_csv(ctx.client, Path(csv_file), cert_type, agency, batch_size, progress=advance)
    show(result)


def _count_rows(path) -> int:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


@cli.command()
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(list(types.ROLES)), help="What the account is for.")
@click.option("--show-key", is_flag=True, help="Print the private key once instead of storing an encrypted keystore.")
@pass_ctx
def register(ctx, name, role, show_key):
    """API 1 - register user: create a key pair NAME and register its public key with ROLE.

    The key pays for its own registration; the signing account (if any) funds it first."""
    password = None if show_key else ctx.password(confirm=True)
    show(ctx.client.register_user(name, role, password=password))


@cli.command()
@pass_ctx
def accounts(ctx):
    """List the accounts in the local keystore folder."""
    table = Table("name", "address")
    for name in ctx.wallet.names():
        table.add_row(name, ctx.wallet.address(name))
    console.print(table)


@cli.command()
@click.argument("address")
@pass_ctx
def pubkey(ctx, address):
    """API 4 - query public key: the registered public key of ADDRESS."""
    click.echo("0x" + ctx.client.query_public_key(address).hex())


# ---------------------------------------------------------------------- issuer governance


@cli.group()
def issuer():
    """Issuer registry governance: more than half of the authorities must approve a change."""


def _outcome(outcome):
    state = "executed" if outcome.executed else f"waiting ({outcome.approvals}/{outcome.needed} approvals)"
    show({"proposal": outcome.proposal_id, "state": state, "tx_hash": outcome.tx.tx_hash, "block": outcome.tx.block_number})


@issuer.command("propose-add")
@click.argument("code")
@click.option("--name", required=True, help="Display name shown to inspectors.")
@click.option("--signer", "signers", multiple=True, required=True, help="Signing account (a registered issuer).")
@click.option("--type", "cert_types", multiple=True, required=True,
              help="Certificate type the agency may issue, or civil-registry (may close holders' records).")
@click.option("--parent", help="Organisation code of the parent authority.")
@pass_ctx
def propose_add(ctx, code, name, signers, cert_types, parent):
    """Propose to accredit agency CODE."""
    c = ctx.client
    _outcome(c.issuers.propose_add_agency(c._signer(), code, name, signers, cert_types, parent))


@issuer.command("propose-suspend")
@click.argument("code")
@pass_ctx
def propose_suspend(ctx, code):
    """Propose to suspend agency CODE."""
    _outcome(ctx.client.issuers.propose_suspend(ctx.client._signer(), code))


@issuer.command("propose-reinstate")
@click.argument("code")
@pass_ctx
def propose_reinstate(ctx, code):
    """Propose to reinstate the suspended agency CODE."""
    _outcome(ctx.client.issuers.propose_reinstate(ctx.client._signer(), code))


@issuer.command("propose-authority")
@click.argument("address")
@click.option("--remove", is_flag=True, help="Propose to remove the authority instead of adding it.")
@pass_ctx
def propose_authority(ctx, address, remove):
    """Propose to add (or --remove) a governing authority."""
    registry, signer = ctx.client.issuers, ctx.client._signer()
    _outcome(registry.propose_remove_authority(signer, address) if remove else registry.propose_add_authority(signer, address))


@issuer.command()
@click.argument("proposal_id", type=int)
@pass_ctx
def approve(ctx, proposal_id):
    """Approve proposal PROPOSAL_ID; it takes effect at the quorum."""
    _outcome(ctx.client.issuers.approve(ctx.client._signer(), proposal_id))


@issuer.command("list")
@pass_ctx
def issuer_list(ctx):
    """List the accredited agencies."""
    table = Table("code", "name", "status", "types", "parent", "signers")
    for a in ctx.client.issuers.agencies():
        table.add_row(a.code, a.name, a.status, ", ".join(a.cert_types), a.parent or "-", "\n".join(a.signers))
    console.print(table)


@issuer.command("show")
@click.argument("code")
@pass_ctx
def issuer_show(ctx, code):
    """Show agency CODE."""
    agency = ctx.client.issuers.agency(code)
    if agency is None:
        raise ElicenseError(f"no agency has organisation code {code!r}")
    show(agency)


# ---------------------------------------------------------------------- licences

type_option = click.option("--type", "cert_type", required=True, help=f"Certificate type: {', '.join(types.CERT_TYPES)}.")
field_options = [
    click.option("--field", "-f", "pairs", multiple=True, help="A licence field NAME=VALUE (repeatable)."),
    click.option("--data", "data_file", help="A JSON file of licence fields ('-' for stdin)."),
    click.option("--valid-from", help="Start of validity (YYYY-MM-DD or unix seconds) [now]."),
    click.option("--valid-until", default="never", show_default=True, help="End of validity."),
]


def with_fields(fn):
    for option in reversed(field_options):
        fn = option(fn)
    return fn


attach_option = click.option(
    "--attach", "attach_files", multiple=True, metavar="FILE",
    help="Attach FILE (a scan, a PDF; repeatable): sealed for the holder and the agency, stored off chain "
         "(--storage), referenced by the licence field attachment:<file name>.")


def read_attachments(files: tuple[str, ...]) -> list[tuple[str, bytes, str]]:
    from .attachments import read_file

    return [read_file(path) for path in files]


def with_attachments(result: dict, issued) -> dict:
    """``result`` plus, when files were attached, their references: the agency's copy, to read them back."""
    if getattr(issued, "attachments", None):
        result["attachments"] = issued.attachments
    return result


@cli.command()
@click.argument("holder")
@click.option("--org", required=True, help="Organisation code of the issuing agency (yours).")
@type_option
@with_fields
@attach_option
@pass_ctx
def issue(ctx, holder, org, cert_type, pairs, data_file, valid_from, valid_until, attach_files):
    """API 2 - send certification: issue a licence to HOLDER, encrypted to the holder's key."""
    fields = parse_fields(pairs, data_file)
    files = read_attachments(attach_files)
    issued = ctx.client.send_certification(
        holder, org, cert_type, fields, valid_from=parse_time(valid_from), valid_until=parse_time(valid_until),
        attachments=files,
    )
    show(with_attachments({"licence_id": issued.licence_id, "tx_hash": issued.tx_hash,
                           "block_number": issued.block_number, "gas_used": issued.gas_used}, issued))


@cli.command()
@click.argument("licence_id")
@type_option
@with_fields
@attach_option
@pass_ctx
def renew(ctx, licence_id, cert_type, pairs, data_file, valid_from, valid_until, attach_files):
    """Issue the successor of LICENCE_ID (same holder); the old one becomes 'renewed'."""
    fields = parse_fields(pairs, data_file)
    files = read_attachments(attach_files)
    issued = ctx.client.renew(
        cert_type, licence_id, fields, valid_from=parse_time(valid_from), valid_until=parse_time(valid_until),
        attachments=files,
    )
    show(with_attachments({"licence_id": issued.licence_id, "previous": issued.previous, "tx_hash": issued.tx_hash,
                           "block_number": issued.block_number}, issued))


def _status_command(name: str, doc: str, with_reason: bool):
    @click.argument("licence_id")
    @type_option
    @pass_ctx
    def command(ctx, licence_id, cert_type, reason=0):
        method = getattr(ctx.client, name)
        tx = method(cert_type, licence_id, reason) if with_reason else method(cert_type, licence_id)
        show({"tx_hash": tx.tx_hash, "block_number": tx.block_number})

    command.__doc__ = doc
    if with_reason:
        command = click.option("--reason", type=click.IntRange(0, 255), default=0, help="Agency-defined reason code.")(command)
    return cli.command(name)(command)


_status_command("suspend", "Suspend LICENCE_ID (issuing agency only).", True)
_status_command("reinstate", "Lift the suspension of LICENCE_ID (issuing agency only).", False)
_status_command("revoke", "Revoke LICENCE_ID for good (issuing agency only).", True)


@cli.command()
@click.argument("holder")
@type_option
@click.option("--reason", required=True, type=click.Choice(list(types.CLOSE_REASONS)))
@pass_ctx
def close(ctx, holder, cert_type, reason):
    """Close HOLDER's record with a final entry; nothing is issued to it afterwards (a civil registry only)."""
    tx = ctx.client.close_record(cert_type, holder, reason)
    show({"tx_hash": tx.tx_hash, "block_number": tx.block_number})


@cli.group()
def inspector():
    """Inspectors an agency authorises (and answers for) in a licence registry: only they record inspections."""


@inspector.command("authorise")
@click.argument("address")
@type_option
@pass_ctx
def inspector_authorise(ctx, address, cert_type):
    """Authorise the registered inspector ADDRESS in the registry of --type, for your agency."""
    tx = ctx.client.authorise_inspector(cert_type, address)
    show({"inspector": address, "tx_hash": tx.tx_hash, "block_number": tx.block_number})


@inspector.command("deauthorise")
@click.argument("address")
@type_option
@pass_ctx
def inspector_deauthorise(ctx, address, cert_type):
    """Withdraw inspector ADDRESS your agency authorised in the registry of --type."""
    tx = ctx.client.deauthorise_inspector(cert_type, address)
    show({"inspector": address, "tx_hash": tx.tx_hash, "block_number": tx.block_number})


@cli.command()
@click.argument("holder")
@click.option("--block", "block_number", type=int, required=True, help="Block number of the issuing transaction.")
@click.option("--tx", "tx_hash", required=True, help="Hash of the issuing transaction.")
@click.option("--decrypt", is_flag=True, help="Decrypt with --account (the holder's key).")
@pass_ctx
def query(ctx, holder, block_number, tx_hash, decrypt):
    """API 5 - query e-licence: the issuer's code and the licence data of a transaction."""
    found = ctx.client.query_licence(holder, block_number, tx_hash)
    result = {k: v for k, v in found.__dict__.items()}
    if decrypt:
        sender = ctx.client._signer()
        result["data"] = found.decrypt(sender.key).to_json()
    show(result)


@cli.command()
@click.argument("holder")
@pass_ctx
def licences(ctx, holder):
    """List every licence issued to HOLDER, with its current status."""
    table = Table("type", "agency", "licence id", "status", "block", "tx")
    for item in ctx.client.licences_of(holder):
        table.add_row(types.CERT_TYPE_NAMES[item.cert_type], item.agency, item.licence_id, item.status,
                      str(item.block_number), item.tx_hash)
    console.print(table)


@cli.command()
@click.argument("holder", required=False)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True, help="Skip the newest N.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="Show at most N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def inspections(ctx, holder, offset, limit, as_json):
    """Every inspection of HOLDER's licences [--account's], failed attempts too, newest first, with
    each registry's hash chain of inspections recomputed and checked."""
    from datetime import datetime, timezone

    if holder is None:
        holder = ctx.client._signer().address
    found = ctx.client.inspections(holder, offset=offset, limit=limit)
    if as_json:
        return show(found.to_json())
    table = Table("when (UTC)", "inspector", "licence", "outcome", title=f"Inspections of {found.holder}")
    for column in table.columns[:3]:
        column.no_wrap = True
    for e in found.items:
        when = datetime.fromtimestamp(e.time, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + f"\nblock {e.block_number}"
        who = f"{e.inspector_name}\n{e.inspector}" if e.inspector_name else e.inspector
        which = f"{e.type}\n{e.licence_id[:10]}…{e.licence_id[-4:]}"
        outcome = f"[bold red]FAILED {e.result}[/]\n{e.sentence}" if e.failed else f"[green]{e.result}[/]\n{e.sentence}"
        table.add_row(when, who, which, outcome, style="red" if e.failed else None)
    console.print(table)
    console.print(f"{found.total} inspection(s), {found.failed} failed; showing {len(found.items)} from {offset}")
    for c in found.chains:
        if c.entries or not c.verified:
            where = f"{types.CERT_TYPE_NAMES[c.cert_type]} registry {c.registry} (chain {c.chain_id})"
            console.print(f"hash chain of {where}: " + ("[green]verified[/]" if c.verified else f"[bold red]BROKEN[/]: {c.problem}"))
    if not found.verified:
        raise InvalidInput("the inspection log does not match the chain's access head (see above)")


@cli.command()
@click.argument("licence_id")
@click.option("--fields", help="Comma-separated fields to disclose [all].")
@click.option("--ttl", type=click.IntRange(10, 3600), default=120, show_default=True, help="Seconds the presentation stays usable.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the presentation here [stdout].")
@click.option("--qr", type=click.Path(dir_okay=False), help="Also write it as a QR code image (PNG or SVG).")
@click.option("--compact", is_flag=True, help="Write the QR code's text (EL1:…) instead of JSON.")
@pass_ctx
def present(ctx, licence_id, fields, ttl, out, qr, compact):
    """Holder: sign a fresh presentation of LICENCE_ID (with --account, the holder's key); with --qr
    also as the QR code a wallet shows (docs/presentation-format.md)."""
    from . import qr as qr_format

    client = ctx.client
    holder = client._signer()
    found = next((item for item in client.licences_of(holder.address) if item.licence_id == licence_id.lower()), None)
    if found is None:
        raise ElicenseError(f"{holder.address} holds no licence {licence_id}")
    chosen = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    shown = client.present(holder, found, chosen, ttl)
    code = qr_format.encode(shown, issued_block=found.block_number)
    text = code if compact else shown.dumps()
    if out:
        write_private(out, text)
    else:
        click.echo(text)
    if qr:
        import io

        import segno

        image = io.BytesIO()
        segno.make(code, error="m", boost_error=False).save(image, kind=Path(qr).suffix[1:].lower() or "png", scale=6,
                                                           border=4)
        write_private(qr, image.getvalue())


@cli.command()
@click.argument("licence_id")
@click.argument("name", required=False)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the file here [NAME in the current folder].")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@pass_ctx
def attachment(ctx, licence_id, name, out, force):
    """Holder: write attachment NAME of LICENCE_ID to a file (with --account, the holder's key; files
    are read from --storage), checked against the licence; without NAME, list the attachments."""
    from .attachments import fetch, pick

    client = ctx.client
    holder = client._signer()
    found = next((item for item in client.licences_of(holder.address) if item.licence_id == licence_id.lower()), None)
    if found is None:
        raise ElicenseError(f"{holder.address} holds no licence {licence_id}")
    refs = client.attachments_of(found, holder)
    if name is None:
        show(refs)
        return
    ref = pick(refs, name)
    target = Path(out) if out else Path(ref["name"])
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists; pass --force to overwrite it")
    data = fetch(client.storage, ref, holder)
    write_private(target, data)  # the plaintext of a personal document: its owner's eyes only
    show({"name": ref["name"], "media_type": ref["media_type"], "size": len(data), "path": str(target)})


@cli.command()
@click.argument("holder")
@click.option("--org", required=True, help="Organisation code of the agency expected to have issued it.")
@click.option("--presentation", "source", required=True, help="Presentation file, or '-' for stdin.")
@click.option("--no-record", is_flag=True, help="Verify without recording the inspection on chain.")
@pass_ctx
def check(ctx, holder, org, source, no_record):
    """API 3 - check: verify a presented licence step by step and record the inspection."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read the presentation {source}: {exc.strerror}") from None
    verdict = ctx.client.check(holder, org, text, record=not no_record)
    table = Table("step", "status", "reason")
    colours = {"valid": "green", "invalid": "red", "error": "red", "skipped": "dim"}
    for step in verdict.steps:
        table.add_row(step.name, f"[{colours[step.status]}]{step.status}[/]", step.reason)
    console.print(table)
    console.print(f"verdict: [bold]{'VALID' if verdict.valid else 'INVALID'}[/]"
                  + (f"  (tx {verdict.tx_hash}, block {verdict.block_number})" if verdict.tx_hash else ""))
    sys.exit(0 if verdict.valid else 3)


@cli.command()
@click.option("--node", type=click.Choice(["anvil", "ganache"]), default="anvil", show_default=True)
@click.option("--out", default="demo-output", show_default=True, help="Folder for keystores, deployments, presentations.")
@click.option("--topology", "shape", type=click.Choice(["split", "single"]), default="split", show_default=True,
              help="split: main chain, five side chains and an EU chain; single: one chain.")
@click.option("--no-serve", is_flag=True, help="Exit after the summary instead of serving the pages (for scripts).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port for the pages and the API (another free one if taken).")
@pass_ctx
def demo(ctx, node, out, shape, no_serve, port):
    """Start local chains, deploy, register agencies, holders and an inspector, issue (one by one and
    in a batch), relay checkpoints, check; then serve the wallet, inspector and agency pages on those
    chains until Ctrl-C."""
    from .demo import run

    _stop_on_sigterm()
    run(Path(out), node=node, console=console, topology=shape, serve=not no_serve, port=port)


def _stop_on_sigterm() -> None:
    """SIGTERM (a service manager, `timeout`) unwinds like Ctrl-C, so the chains we started stop too."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port).")
@click.option("--faucet", is_flag=True, help="Fund new accounts from the service account (local chains only).")
@click.option("--frontend", type=click.Path(file_okay=False), help="Folder of the pages [the project's frontend/].")
@click.option("--personal", "personal_registries", multiple=True,
              help="A PersonalDataRegistry to serve (repeatable); no other is served, whatever its code.")
@click.option("--sharing", "sharing_contracts", multiple=True,
              help="A DataSharing contract to serve (repeatable); no other is served, whatever its code.")
@pass_ctx
def serve(ctx, host, port, faucet, frontend, personal_registries, sharing_contracts):
    """Serve the REST API (/api, OpenAPI at /docs) and the wallet, inspector and agency pages.

    The signing account (--account / --dev-account) is the service account: it pays for
    permissionless Merkle proofs to side chains and, with --faucet, funds new accounts. Users' own
    keys never reach the server: they sign in their browser."""
    from .server import serve as run_server

    _stop_on_sigterm()
    storage = None
    if ctx.storage:
        from .storage import open_store

        storage = open_store(ctx.storage)
    run_server(ctx.client, ctx.sender(), host=host, port=port, faucet=faucet,
               frontend=Path(frontend) if frontend else None, console=console, storage=storage,
               personal=list(personal_registries), sharing=list(sharing_contracts))


from .personal_cli import personal  # noqa: E402  (the group registers itself below)

cli.add_command(personal)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except ElicenseError as exc:
        click.echo(f"error: {exc.user_message}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug of ours: say so in one line; ELICENSE_DEBUG=1 shows the traceback
        if os.environ.get("ELICENSE_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set ELICENSE_DEBUG=1 for details)", err=True)
        sys.exit(2)
