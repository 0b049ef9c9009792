"""POST /api/v1/lots: GTINs normalised, lineage stored, registered on chain signed by the
supplier (custodial, or the client's own signature for self-custody)."""

from __future__ import annotations

from typing import Any

from fixtures.writepath import WritePath, gtin
from lotlink.chain.typed_data import Authorization
from lotlink.gs1.keys import lot_key
from lotlink.services.chain_access import fresh_nonce
from lotlink.services.lots import details_hash
from lotlink.vocabulary import Role


def test_a_lot_is_registered_on_chain_and_stored(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    gtin13 = gtin(7)[1:]  # a GTIN-13 is stored as GTIN-14
    lot = write_path.lot(supplier, gtin13, "LOT-7", quantity=12.5, product_name="Olive oil")
    assert lot["gtin"] == gtin(7) and lot["lot_code"] == "LOT-7"
    assert lot["lot_key"] == "0x" + lot_key(gtin(7), "LOT-7").hex()
    assert lot["quantity"] == 12.5 and lot["unit"] == "KGM" and lot["owner"] == supplier.address
    assert lot["digital_link"] == f"https://id.gs1.org/01/{gtin(7)}/10/LOT-7"
    assert lot["tx_hash"] and lot["block_number"] and lot["log_index"] is not None
    on_chain = write_path.world.lotlink.call("lotOf", bytes.fromhex(lot["lot_key"][2:]))
    assert supplier.address in str(on_chain)
    again = write_path.client.get(f"/api/v1/lots/{gtin(7)}/LOT-7").json()
    assert again == lot


def test_parents_are_stored_as_lineage_with_consumed_quantities(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    flour = write_path.lot(supplier, gtin(1), "FLOUR", quantity=500)
    salt = write_path.lot(supplier, gtin(2), "SALT", quantity=20, unit="KGM")
    bread = write_path.lot(
        supplier,
        gtin(3),
        "BREAD",
        quantity=800,
        unit="H87",
        parents=[
            {"gtin": gtin(1), "lot_code": "FLOUR", "quantity": 120.5},
            {"gtin": gtin(2), "lot_code": "SALT", "quantity": 2},
        ],
    )
    parents = {p["lot_key"]: p for p in bread["parents"]}
    assert parents[flour["lot_key"]]["quantity"] == 120.5
    assert parents[salt["lot_key"]]["unit"] == "KGM"
    on_chain = write_path.world.lotlink.call("lotParents", bytes.fromhex(bread["lot_key"][2:]))
    assert len(on_chain) == 2


def test_a_duplicate_lot_is_409_naming_it(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    write_path.lot(supplier, gtin(4), "DUP")
    before = write_path.counts()
    response = write_path.client.post(
        "/api/v1/lots",
        json={"gtin": gtin(4), "lot_code": "DUP", "quantity": 1, "unit": "KGM"},
        headers=supplier.headers,
    )
    assert response.status_code == 409
    assert "DUP" in response.json()["detail"] and gtin(4) in response.json()["detail"]
    assert write_path.counts() == before


def bad(write_path: WritePath, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    before = write_path.counts()
    response = write_path.client.post("/api/v1/lots", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert write_path.counts() == before
    result: dict[str, Any] = response.json()
    return result


def test_bad_lots_are_422_naming_the_field(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    good = {"gtin": gtin(5), "lot_code": "OK", "quantity": 1, "unit": "KGM"}
    wrong_check = gtin(5)[:-1] + str((int(gtin(5)[-1]) + 1) % 10)
    problem = bad(write_path, supplier.headers, {**good, "gtin": wrong_check})
    assert problem["field"] == "gtin" and "check digit" in problem["detail"]
    problem = bad(write_path, supplier.headers, {**good, "lot_code": "bad lot#"})
    assert problem["field"] == "lot_code"
    problem = bad(write_path, supplier.headers, {**good, "quantity": "1.0001"})
    assert problem["errors"][0]["field"] == "body.quantity"
    problem = bad(write_path, supplier.headers, {**good, "unit": "kilograms"})
    assert problem["errors"][0]["field"] == "body.unit"
    unknown_parent = {**good, "parents": [{"gtin": gtin(6), "lot_code": "NONE", "quantity": 1}]}
    problem = write_path.client.post("/api/v1/lots", json=unknown_parent, headers=supplier.headers)
    assert problem.status_code == 404 and problem.json()["field"] == "parents[0]"
    malformed = write_path.client.post(
        "/api/v1/lots",
        content=b"{not json",
        headers={**supplier.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"].startswith("body")


def _registration(gtin14: str, code: str) -> tuple[Any, ...]:
    return (gtin14, code, [], [], 3000, "KGM", details_hash(None))


def test_a_self_custody_supplier_signs_its_own_lot(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER, custodial=False)
    contract = write_path.chain.contract
    body = {"gtin": gtin(8), "lot_code": "SELF", "quantity": 3, "unit": "KGM"}
    missing = write_path.client.post("/api/v1/lots", json=body, headers=supplier.headers)
    assert missing.status_code == 422 and missing.json()["field"] == "authorization"

    stranger = write_path.world.stranger
    forged: Authorization = contract.sign_write(
        "registerLot",
        _registration(gtin(8), "SELF"),
        signer=stranger,
        nonce=fresh_nonce(),
        deadline=write_path.world.now() + 600,
    )
    before = write_path.counts()
    response = write_path.client.post(
        "/api/v1/lots",
        json={
            **body,
            "authorization": {
                "signature": "0x" + forged.signature.hex(),
                "nonce": forged.nonce,
                "deadline": forged.deadline,
            },
        },
        headers=supplier.headers,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "authorization.signature"
    assert stranger.address in response.json()["detail"]
    assert write_path.counts() == before

    auth: Authorization = contract.sign_write(
        "registerLot",
        _registration(gtin(8), "SELF"),
        signer=supplier.account,
        nonce=fresh_nonce(),
        deadline=write_path.world.now() + 600,
    )
    response = write_path.client.post(
        "/api/v1/lots",
        json={
            **body,
            "authorization": {
                "signature": "0x" + auth.signature.hex(),
                "nonce": auth.nonce,
                "deadline": auth.deadline,
            },
        },
        headers=supplier.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["owner"] == supplier.address
