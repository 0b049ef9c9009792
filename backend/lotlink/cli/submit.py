"""`lotlink submit FILE`: post checkpoints to a Lotlink service, signed locally.

FILE holds one plain checkpoint (an object), a JSON list of them, or an EPCIS 2.0 document. A
plain checkpoint is the API's form plus the lot it is about (``lot_key``, or ``gtin`` and
``lot_code``). With ``--keystore`` each event is built here exactly as the service builds it,
chained after the lots' current heads, and signed with the key (EIP-712 ``Checkpoint``); the
service only checks the signature. Without it, a custodial actor's events are signed by the
service.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from eth_account.signers.local import LocalAccount
from rich.progress import Progress

from lotlink.chain.typed_data import Domain, sign_typed
from lotlink.config import get_settings
from lotlink.epcis.build import LotRef, kind_of_event, lots_named, previous_ids
from lotlink.epcis.event_hash import event_digest
from lotlink.errors import LotlinkError
from lotlink.keystore import load_keystore_file
from lotlink.schemas.checkpoints import CheckpointCreate
from lotlink.services.checkpoint_forms import plain_checkpoint
from lotlink.services.checkpoints import checkpoint_message
from lotlink.services.lots import lot_key_hex
from lotlink.vocabulary import CheckpointKind


class SubmitError(LotlinkError):
    """Raised when the file cannot be submitted at all (unreadable, not JSON, service refuses)."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"submit: {reason}")


def make_client(url: str, token: str) -> httpx.Client:
    """The HTTP client of a submission (tests replace it with one bound to an app)."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


@dataclass
class Summary:
    created: int = 0
    existing: int = 0
    failed: list[str] = field(default_factory=list)


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise SubmitError(reason=f"{what}: {response.status_code} {detail}")
    body: dict[str, Any] = response.json()
    return body


class Submitter:
    """Posts events, keeping each lot's head as the service reports it."""

    def __init__(self, client: httpx.Client, account: LocalAccount | None) -> None:
        self.client = client
        self.account = account
        self.heads: dict[str, str | None] = {}
        self.summary = Summary()
        me = _check(client.get("/api/v1/me"), "who am I")
        self.gln: str | None = me.get("gln")
        domain = me["domain"]
        self.domain = Domain(domain["chainId"], domain["verifyingContract"])
        if account is not None and account.address != me["address"]:
            raise SubmitError(
                reason=f"the keystore holds {account.address}, the token acts for {me['address']}"
            )

    def head(self, key: str) -> str | None:
        if key not in self.heads:
            self.heads[key] = _check(self.client.get(f"/api/v1/lots/{key}"), f"lot {key}")[
                "head_digest"
            ]
        return self.heads[key]

    def _sign(self, digest: bytes, lot_key: str, kind: CheckpointKind) -> str:
        assert self.account is not None
        message = checkpoint_message(digest, lot_key, kind)
        return "0x" + sign_typed(self.account, "Checkpoint", message, self.domain).hex()

    def _record(self, label: str, response: httpx.Response, bodies: list[dict[str, Any]]) -> None:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            self.summary.failed.append(f"{label}: {response.status_code} {detail}")
            return
        for body in bodies:
            for key in body["previous"]:
                self.heads[key] = body["digest"]
        if response.status_code == 201:
            self.summary.created += (
                sum(1 for _ in bodies)
                if "created" not in response.json()
                else response.json()["created"]
            )
            self.summary.existing += response.json().get("existing", 0)
        else:
            self.summary.existing += len(bodies)

    def checkpoint(self, label: str, item: dict[str, Any]) -> None:
        form = dict(item)
        key = form.pop("lot_key", None)
        gtin, lot_code = form.pop("gtin", None), form.pop("lot_code", None)
        try:
            if key is None:
                if gtin is None or lot_code is None:
                    raise SubmitError(reason="name the lot: lot_key, or gtin and lot_code")
                key = lot_key_hex(LotRef.of(str(gtin), str(lot_code)))
            lot = _check(self.client.get(f"/api/v1/lots/{key}"), f"lot {key}")
            self.heads.setdefault(lot["lot_key"], lot["head_digest"])
            if self.account is not None:
                checked = CheckpointCreate(**form)
                plain = plain_checkpoint(
                    checked, lot=LotRef(lot["gtin"], lot["lot_code"]), default_gln=self.gln
                )
                heads = [self.head(lot_key_hex(ref)) for ref, _ in plain.lots]
                previous = sorted({h for h in heads if h is not None})
                digest = plain.digest([bytes.fromhex(h[2:]) for h in previous])
                form |= {
                    "previous": previous,
                    "signature": self._sign(digest, lot["lot_key"], checked.kind),
                }
        except (LotlinkError, ValueError) as error:
            self.summary.failed.append(f"{label}: {error}")
            return
        response = self.client.post(f"/api/v1/lots/{lot['lot_key']}/checkpoints", json=form)
        self._record(label, response, [response.json()] if response.status_code < 400 else [])

    def document(self, document: dict[str, Any]) -> None:
        headers = {}
        events = document.get("epcisBody", {}).get("eventList", [])
        if self.account is not None:
            signatures = []
            pending: dict[str, str | None] = {}
            for i, event in enumerate(events):
                kind = kind_of_event(event)
                keys = [lot_key_hex(ref) for _, ref, _ in lots_named(event)]
                if kind is CheckpointKind.TRANSFORMED:
                    outputs = [lot_key_hex(r) for p, r, _ in lots_named(event) if ".output" in p]
                    keys = outputs[:1] + [k for k in keys if k not in outputs[:1]]
                if not keys:
                    raise SubmitError(reason=f"event {i} names no lot")
                heads = {k: pending[k] if k in pending else self.head(k) for k in keys}
                if "lotlink:previous" not in event:
                    digests = [bytes.fromhex(h[2:]) for h in heads.values() if h is not None]
                    event["lotlink:previous"] = previous_ids(digests)
                digest = event_digest(event, context=document.get("@context"))
                for k in keys:
                    pending[k] = "0x" + digest.hex()
                signatures.append(self._sign(digest, keys[0], kind))
            headers["Lotlink-Signature"] = ",".join(signatures)
        response = self.client.post("/epcis/capture", json=document, headers=headers)
        self._record(
            "document",
            response,
            response.json()["checkpoints"] if response.status_code < 400 else [],
        )


def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON file to submit.")],
    token: Annotated[str, typer.Option("--token", envvar="LOTLINK_API_TOKEN", help="API token.")],
    url: Annotated[
        str | None,
        typer.Option("--url", help="The service; default: LOTLINK_PUBLIC_BASE_URL."),
    ] = None,
    keystore: Annotated[
        Path | None,
        typer.Option("--keystore", help="Sign locally with this keystore (the actor's own key)."),
    ] = None,
    password_env: Annotated[
        str, typer.Option("--password-env", help="Env var holding the keystore passphrase.")
    ] = "LOTLINK_KEYSTORE_PASSWORD",
) -> None:
    """Post one checkpoint, a JSON list of them, or an EPCIS document; print a summary."""
    try:
        payload = json.loads(file.read_text())
    except (OSError, ValueError) as error:
        raise SubmitError(reason=f"{file} is not readable JSON ({error})") from None
    account = None
    if keystore is not None:
        password = os.environ.get(password_env)
        if password is None:
            password = typer.prompt(f"passphrase of {keystore}", hide_input=True)
        account = load_keystore_file(keystore, password)
    with make_client(url or get_settings().public_base_url, token) as client:
        submitter = Submitter(client, account)
        if isinstance(payload, dict) and payload.get("type") == "EPCISDocument":
            submitter.document(payload)
            total = len(payload.get("epcisBody", {}).get("eventList", []))
        else:
            items = payload if isinstance(payload, list) else [payload]
            total = len(items)
            with Progress(transient=True) as progress:
                task = progress.add_task("submitting", total=total)
                for i, item in enumerate(items):
                    if not isinstance(item, dict):
                        submitter.summary.failed.append(f"[{i}]: not a JSON object")
                    else:
                        submitter.checkpoint(f"[{i}]", item)
                    progress.advance(task)
    summary = submitter.summary
    typer.echo(
        f"{total} submitted: {summary.created} created, {summary.existing} already recorded, "
        f"{len(summary.failed)} failed"
    )
    for failure in summary.failed:
        typer.echo(f"  {failure}", err=True)
    if summary.failed:
        raise typer.Exit(1)
