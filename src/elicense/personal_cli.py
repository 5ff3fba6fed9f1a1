"""`elicense personal ...`: the GDPR rights from the command line (elicense.personal underneath).

Who runs what: the controller organisation deploys, grants roles, drafts, creates, rectifies and
erases; the data subject consents, reads, exports, answers consent requests and revokes; a trusted
entity requests consent and reads; a processor lists by field; a supervisor audits. Each signs with
its own key (--account or --dev-account, the global options).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import types
from .errors import InvalidInput, NotAllowed
from .files import write_private

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


class PersonalContext:
    def __init__(self, parent, registry: str | None, storage: str | None):
        self.parent, self.registry_address, self.storage_location = parent, registry, storage
        self._data = None

    @property
    def data(self):
        from .personal import PersonalData, is_personal_registry
        from .registries.personal import PersonalDataRegistry
        from .storage import open_store

        if self._data is None:
            if not self.registry_address:
                raise InvalidInput("name the registry: --registry ADDRESS (or ELICENSE_PERSONAL_REGISTRY)")
            client = self.parent.client
            address = types.address(self.registry_address, "personal-data registry address")
            if not is_personal_registry(client.chain, address):
                raise InvalidInput(f"{address} is not a PersonalDataRegistry on chain {client.chain.chain_id}")
            location = self.storage_location or self.parent.storage  # the group's option, else the global one
            self._data = PersonalData(PersonalDataRegistry(client.chain, address), open_store(location),
                                      identities=client.identities)
        return self._data

    def signer(self):
        account = self.parent.client.sender
        if account is None:
            raise NotAllowed("this needs a signing account: --account NAME or --dev-account N")
        return account


pass_personal = click.make_pass_decorator(PersonalContext)


def _show(obj) -> None:
    from .cli import show

    show(obj)


def _progress(label: str) -> Progress:
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err_console, transient=True)


def _document(data_file: str | None, pairs: tuple[str, ...]) -> dict:
    from .cli import parse_fields

    return parse_fields(pairs, data_file)


def _read_json(path: str, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the {what} from {path}: {exc}") from None


def _typed_from_json(typed: dict) -> dict:
    """Consent typed data read back from a file: bytes32 fields as bytes again."""
    try:
        message = dict(typed["message"])
        for name in ("purpose", "integrityHash"):
            message[name] = bytes.fromhex(str(message[name]).removeprefix("0x"))
        return {**typed, "message": message}
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"malformed consent request: {exc}") from None


@click.group()
@click.option("--registry", envvar="ELICENSE_PERSONAL_REGISTRY", help="PersonalDataRegistry address.")
@click.option("--storage", envvar="ELICENSE_STORAGE_LOCATION",
              help="Where files live: a folder (embedded store) or an IPFS RPC API (/ip4/127.0.0.1/tcp/5001) "
                   "[$ELICENSE_IPFS_API, else ~/.elicense/storage].")
@click.pass_context
def personal(ctx, registry, storage):
    """Personal data under the GDPR: records, reads, consents, erasure, audits."""
    ctx.obj = PersonalContext(ctx.obj, registry, storage)


@personal.command()
@pass_personal
def deploy(p):
    """Deploy a registry for the signing organisation (it becomes admin and controller)."""
    from .personal import deploy as deploy_registry

    registry = deploy_registry(p.parent.client.chain, p.signer())
    _show({"registry": registry.address, "chain_id": registry.chain.chain_id, "controller": p.signer().address})


@personal.command("grant-role")
@click.argument("role", type=click.Choice(["controller", "processor", "supervisor"]))
@click.argument("address")
@pass_personal
def grant_role(p, role, address):
    """Give ADDRESS a role (admin only). A new processor gets every live record resealed for it."""
    if role == "processor":
        with _progress("resealing") as bar:
            task = bar.add_task("reseal", total=None)
            count = p.data.add_processor(p.signer(), address,
                                         progress=lambda done, total: bar.update(task, completed=done, total=total))
        _show({"role": role, "account": types.address(address), "resealed": count})
        return
    _show(p.data.registry.grant_role(p.signer(), role, types.address(address)))


@personal.command()
@click.argument("subject")
@click.option("--data", "data_file", help="JSON file of the subject's personal data ('-' for stdin).")
@click.option("-f", "--field", "pairs", multiple=True, help="A field NAME=VALUE (repeatable).")
@click.option("--purpose", required=True, help="Why the data is processed (the subject consents to this).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Consent request file for the subject.")
@pass_personal
def draft(p, subject, data_file, pairs, purpose, out):
    """Controller, step 1: seal SUBJECT's data for the subject and the controller, store it, and
    write the consent request the subject signs (step 2: `personal consent`)."""
    from .commitments import Purpose

    d = p.data.draft(p.signer().address, subject, _document(data_file, pairs))
    salted = Purpose.new(purpose)  # the chain gets its salted commitment; statement and salt go in the file
    typed = p.data.consent_typed_data(d, salted)
    write_private(out, json.dumps({"draft": types.jsonable(asdict(d)), "purpose": purpose,
                                   "purpose_salt": "0x" + salted.salt.hex(), "typed": types.jsonable(typed)},
                                  indent=2))
    _show({"cid": d.cid, "integrity_hash": "0x" + d.integrity_hash.hex(), "consent_request": out})


@personal.command()
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the signed consent.")
@click.option("--yes", is_flag=True, help="Sign without asking.")
@pass_personal
def consent(p, request_file, out, yes):
    """Subject, step 2: open the drafted file with your key, show it and the purpose, and sign."""
    from .commitments import purpose_commitment
    from .personal import decode_document
    from .storage import envelope

    request = _read_json(request_file, "consent request")
    typed = _typed_from_json(request.get("typed", {}))
    subject = p.signer()
    draft_info = request.get("draft", {})
    if types.address(draft_info.get("subject", ""), "subject") != subject.address:
        raise NotAllowed(f"this consent request is for {draft_info.get('subject')}, not {subject.address}")
    if purpose_commitment(str(request.get("purpose", "")), request.get("purpose_salt")) != typed["message"]["purpose"]:
        raise InvalidInput("the purpose text and salt do not match the purpose in the request")
    sealed = p.data.storage.get(draft_info.get("cid", ""))
    if envelope.integrity_hash(sealed) != typed["message"]["integrityHash"]:
        raise InvalidInput("the stored draft is not the file the request names")
    document = decode_document(envelope.open_envelope(sealed, subject))
    if typed["domain"]["verifyingContract"] != p.data.registry.address:
        raise InvalidInput("the request is for another registry than --registry")
    click.echo(f"controller {typed['message']['controller']} asks to record, for: {request['purpose']}", err=True)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False), err=True)
    if not yes and not click.confirm("consent?", err=True):
        raise click.exceptions.Abort()
    signature = p.data.sign_consent(subject, typed)
    write_private(out, json.dumps({**request, "signature": "0x" + signature.hex()}, indent=2))
    _show({"signed": out})


@personal.command()
@click.argument("signed_file", type=click.Path(exists=True, dir_okay=False))
@pass_personal
def create(p, signed_file):
    """Controller, step 3: record the draft under the subject's signed consent."""
    from .personal import Draft

    signed = _read_json(signed_file, "signed consent")
    try:
        info = signed["draft"]
        d = Draft(info["subject"], info["controller"], info["cid"], bytes.fromhex(info["integrity_hash"][2:]),
                  tuple(info["readers"]))
        signature = bytes.fromhex(signed["signature"].removeprefix("0x"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"malformed signed consent: {exc}") from None
    _show(p.data.create(p.signer(), d, _typed_from_json(signed["typed"]), signature))


@personal.command()
@click.argument("subject")
@click.option("--fields", default="*", show_default=True, help="Comma-separated fields, or * for all.")
@pass_personal
def read(p, subject, fields):
    """Read SUBJECT's data (logged on chain first; refused reads are logged too)."""
    result = p.data.read(p.signer(), subject, fields)
    _show({"subject": result.record.subject, "version": result.record.version, "tampered": result.tampered,
           "missing": result.missing, "data": result.data, "logged": result.entry.tx_hash})
    if result.tampered:
        sys.exit(3)


@personal.command()
@click.argument("subject")
@click.option("--data", "data_file", help="JSON file replacing the whole record.")
@click.option("-f", "--field", "pairs", multiple=True, help="Change a field NAME=VALUE (repeatable).")
@click.option("--remove", "removed", multiple=True, help="Delete a field (repeatable).")
@pass_personal
def rectify(p, subject, data_file, pairs, removed):
    """Rectify SUBJECT's data (GDPR Article 16; controller or subject); the old file is removed."""
    if data_file:
        _show(p.data.rectify(p.signer(), subject, _document(data_file, pairs)))
        return
    changes = {**_document(None, pairs), **{name: None for name in removed}}
    if not changes:
        raise InvalidInput("give --data FILE, or fields to change (-f NAME=VALUE) or remove (--remove NAME)")
    _show(p.data.rectify(p.signer(), subject, changes=changes))


@personal.command()
@click.argument("subject")
@pass_personal
def erase(p, subject):
    """Erase SUBJECT's record (GDPR Article 17; controller or subject); every file is removed."""
    erasure = p.data.erase(p.signer(), subject)
    _show({"erased": erasure.change, "removed": erasure.removed, "still_stored": erasure.still_stored})
    if not erasure.complete:
        click.echo("error: some files are still stored; run `personal collect` when the store is reachable", err=True)
        sys.exit(1)


@personal.command()
@click.argument("subject")
@pass_personal
def collect(p, subject):
    """Remove every stored file SUBJECT's record no longer points at (finishes a rectification or erasure)."""
    erasure = p.data.collect(subject)
    _show({"removed": erasure.removed, "still_stored": erasure.still_stored})


@personal.command()
@click.option("--out", type=click.Path(dir_okay=False), help="Write the JSON here [stdout].")
@pass_personal
def export(p, out):
    """Export your data and everything on chain about it as one JSON file (GDPR Articles 15, 20)."""
    text = json.dumps(p.data.export(p.signer()), indent=2, ensure_ascii=False)
    if out:
        write_private(out, text)
        _show({"exported": out})
    else:
        click.echo(text)


@personal.command("list")
@click.option("--fields", required=True, help="Comma-separated fields to list.")
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=100, show_default=True)
@click.option("--all", "every", is_flag=True, help="Every page, from --offset on.")
@pass_personal
def list_records(p, fields, offset, limit, every):
    """List records by field, a page at a time (one logged transaction per page)."""
    pages = []
    with _progress("listing") as bar:
        task = bar.add_task("list", total=None)
        while True:
            page = p.data.list_by_field(p.signer(), fields, offset=offset, limit=limit)
            pages.append(page)
            bar.update(task, completed=offset + len(page.items), total=page.total)
            if not every or page.next_offset is None:
                break
            offset = page.next_offset
    items = [types.jsonable(asdict(i)) for page in pages for i in page.items]
    _show({"total": pages[-1].total, "next_offset": pages[-1].next_offset, "items": items})


@personal.command()
@click.argument("subject")
@click.option("--purpose", required=True, help="Why you need the record (shown to the subject).")
@pass_personal
def request(p, subject, purpose):
    """Ask SUBJECT for their record; your public key goes with the request."""
    _show(p.data.request_consent(p.signer(), subject, purpose))


@personal.command()
@click.option("--pending", is_flag=True, help="Only the unanswered ones.")
@pass_personal
def requests(p, pending):
    """The consent requests made to you (the signer)."""
    table = Table("id", "requester", "purpose", "status", "asked")
    for r in p.data.registry.requests_for(p.signer().address, pending_only=pending):
        table.add_row(str(r.request_id), r.requester, "0x" + r.purpose.hex()[:16] + "…", r.status,
                      datetime.fromtimestamp(r.requested_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    console.print(table)


@personal.command()
@click.argument("request_id", type=click.IntRange(0))
@pass_personal
def grant(p, request_id):
    """Grant consent request REQUEST_ID: your file's key is wrapped to the requester too."""
    _show(p.data.grant(p.signer(), request_id))


@personal.command()
@click.argument("request_id", type=click.IntRange(0))
@pass_personal
def deny(p, request_id):
    """Deny consent request REQUEST_ID."""
    _show(p.data.deny(p.signer(), request_id))


@personal.command()
@click.argument("requester")
@click.option("--no-rekey", is_flag=True, help="Only record the withdrawal; keep the current data key.")
@pass_personal
def revoke(p, requester, no_rekey):
    """Withdraw the consent given to REQUESTER (and reseal your file under a fresh key)."""
    change = p.data.revoke(p.signer(), requester, rekey=not no_rekey)
    _show({"revoked": types.address(requester), "resealed": change})


@personal.command()
@click.argument("subject")
@pass_personal
def log(p, subject):
    """The access log of SUBJECT: every read and every failed attempt, and whether the chain verifies."""
    registry = p.data.registry
    table = Table("block", "reader", "submitter", "fields", "outcome")
    for e in registry.access_log(types.address(subject, "subject address")):
        style = "" if e.result == "granted" else "red"
        table.add_row(str(e.block_number), e.reader, "" if e.submitter == e.reader else e.submitter, e.fields,
                      f"[{style}]{e.result}[/]" if style else e.result)
    console.print(table)
    verified = registry.verify_access_log(types.address(subject))
    console.print("hash chain: " + ("[green]verified[/]" if verified else "[red]BROKEN[/]"))


@personal.command()
@click.argument("subject", required=False)
@click.option("--no-record", is_flag=True, help="Check without recording the finding on chain.")
@pass_personal
def audit(p, subject, no_record):
    """Supervisor: check SUBJECT's files against the chain (every record without SUBJECT) and record findings."""
    if subject:
        _show(p.data.audit(p.signer(), subject, record_finding=not no_record).to_json())
        return
    with _progress("auditing") as bar:
        task = bar.add_task("audit", total=None)
        reports = p.data.audit_all(p.signer(), record_finding=not no_record,
                                   progress=lambda done, total: bar.update(task, completed=done, total=total))
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.finding] = counts.get(r.finding, 0) + 1
    _show({"records": len(reports), "findings": counts,
           "not_intact": [r.to_json() for r in reports if r.finding not in ("intact", "erasure-verified")]})
