"""The links a Digital Link resolves to (GS1 link types), as a linkset (RFC 9264), and the small
JSON documents some of them point at: a lot's recall status, journey and certificates.

These JSON routes allow any origin (CORS), as GS1's resolver standard asks of resolver data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from lotlink.api.deps import SessionDep, SettingsDep
from lotlink.gs1.digital_link import DigitalLink
from lotlink.indexer.derived import lot_journey, recall_status
from lotlink.models import Lot
from lotlink.services.lots import find_lot
from lotlink.web.scan import certificate_views, recall_views

VOCABULARY = "https://ref.gs1.org/voc/"
LINKSET_JSON = "application/linkset+json"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Link, Location",
}


@dataclass(frozen=True, slots=True)
class LinkTarget:
    link_type: str  # "gs1:pip"
    title: str
    media_type: str

    @property
    def relation(self) -> str:
        return VOCABULARY + self.link_type.removeprefix("gs1:")


PIP = LinkTarget("gs1:pip", "Product information and its verified journey", "text/html")
LOT_LINKS = (
    PIP,
    LinkTarget("gs1:recallStatus", "Recall status of this lot", "application/json"),
    LinkTarget("gs1:traceability", "The journey of this lot", "application/json"),
    LinkTarget("gs1:certificationInfo", "Certificates and reports", "application/json"),
)
PRODUCT_LINKS = (PIP,)
LINK_TYPES = [target.link_type for target in LOT_LINKS]


def link_href(target: LinkTarget, link: DigitalLink, lot: Lot | None, *, base: str) -> str:
    """Where `target` is for this Digital Link (absolute, on the public base URL)."""
    base = base.rstrip("/")
    if target.link_type == "gs1:pip" or lot is None:
        return link.uri(base)
    suffix = {
        "gs1:recallStatus": "recall-status",
        "gs1:traceability": "journey",
        "gs1:certificationInfo": "certificates",
    }[target.link_type]
    return f"{base}/api/v1/lots/{lot.lot_key}/{suffix}"


def targets_for(lot: Lot | None) -> tuple[LinkTarget, ...]:
    return LOT_LINKS if lot is not None else PRODUCT_LINKS


def linkset(link: DigitalLink, lot: Lot | None, *, base: str) -> dict[str, Any]:
    """The RFC 9264 linkset of a Digital Link: its canonical URI as anchor, one array per type."""
    entry: dict[str, Any] = {"anchor": link.uri(base.rstrip("/"))}
    for target in targets_for(lot):
        entry[target.relation] = [
            {
                "href": link_href(target, link, lot, base=base),
                "title": target.title,
                "type": target.media_type,
                "hreflang": ["en"],
            }
        ]
    entry[VOCABULARY + "defaultLink"] = [
        {"href": link.uri(base.rstrip("/")), "title": PIP.title, "type": "text/html"}
    ]
    return {"linkset": [entry]}


def link_header(link: DigitalLink, lot: Lot | None, *, base: str) -> str:
    """The ``Link`` header: the linkset itself, then each link with its GS1 relation."""
    parts = [f'<{link.uri(base.rstrip("/"))}?linkType=all>; rel="linkset"; type="{LINKSET_JSON}"']
    for target in targets_for(lot):
        href = link_href(target, link, lot, base=base)
        parts.append(f'<{href}>; rel="{target.relation}"; type="{target.media_type}"')
    return ", ".join(parts)


router = APIRouter(prefix="/api/v1/lots", tags=["scan"])


def _lot_label(lot: Lot, *, base: str) -> dict[str, Any]:
    link = DigitalLink(gtin=lot.gtin, lot=lot.lot_code)
    return {
        "lot_key": lot.lot_key,
        "gtin": lot.gtin,
        "lot_code": lot.lot_code,
        "product_name": lot.product_name,
        "digital_link": link.uri(base),
    }


@router.get("/{lot_key}/recall-status", summary="Active recalls reaching a lot, inherited too")
def read_recall_status(lot_key: str, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    lot = find_lot(session, lot_key, field="lot_key")
    status = recall_status(session, lot.lot_key)
    views = recall_views(session, lot.lot_key)
    by_id = {item.recall_id: item for item in status.recalls}
    body = {
        "lot": _lot_label(lot, base=settings.public_base_url),
        "recalled": status.recalled,
        "most_severe_class": status.most_severe_class,
        "recalls": [
            {
                "recall_id": view.recall_id,
                "recall_class": by_id[view.recall_id].recall_class,
                "recalled_lot": by_id[view.recall_id].recalled_lot,
                "inherited": by_id[view.recall_id].inherited,
                "depth": by_id[view.recall_id].depth,
                "reason": view.reason,
                "consumer_instructions": view.advice,
                "issued_at": view.since.isoformat(),
            }
            for view in views
        ],
    }
    return JSONResponse(body, headers=CORS)


@router.get("/{lot_key}/journey", summary="A lot's checkpoints in time order, with anchors")
def read_journey(lot_key: str, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    lot = find_lot(session, lot_key, field="lot_key")
    steps = []
    for step in lot_journey(session, lot.lot_key):
        checkpoint = step.checkpoint
        steps.append(
            {
                "digest": checkpoint.digest,
                "event_id": checkpoint.event_id,
                "kind": str(checkpoint.kind),
                "biz_step": checkpoint.biz_step,
                "disposition": checkpoint.disposition,
                "event_time": checkpoint.event_time.isoformat(),
                "event_time_offset": checkpoint.event_time_offset,
                "location_gln": checkpoint.location_gln,
                "signer": to_checksum_address(checkpoint.signer_address),
                "status": str(checkpoint.status),
                "receipt": f"/api/v1/checkpoints/{checkpoint.digest}/receipt",
            }
        )
    body = {
        "lot": _lot_label(lot, base=settings.public_base_url),
        "sources": [
            _lot_label(edge.parent, base=settings.public_base_url) for edge in lot.parent_edges
        ],
        "steps": steps,
    }
    return JSONResponse(body, headers=CORS)


@router.get("/{lot_key}/certificates", summary="Certificates about a lot and its supplier")
def read_certificates(lot_key: str, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    lot = find_lot(session, lot_key, field="lot_key")
    body = {
        "lot": _lot_label(lot, base=settings.public_base_url),
        "certificates": [
            {
                "title": view.title,
                "about": view.about,
                "issuer": view.issuer,
                "valid_from": view.valid_from.isoformat(),
                "valid_until": None if view.valid_until is None else view.valid_until.isoformat(),
                "validity": view.validity,
                "document": view.download_url,
                "document_matches_anchor": view.check.verified,
            }
            for view in certificate_views(session, lot, settings=settings)
        ],
    }
    return JSONResponse(body, headers=CORS)


def cors_preflight(request: Request) -> JSONResponse:
    return JSONResponse(
        None,
        status_code=204,
        headers={
            **CORS,
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Accept",
            "Access-Control-Max-Age": "86400",
        },
    )
