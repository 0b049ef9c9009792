"""FSMA 204 export: the sortable spreadsheet of the multi-hop scenario, as CSV and XLSX, one row
per critical tracking event with its key data elements and receipt reference; filters by TLC,
lot key, GTIN, dates and trace; a supplier sees its own records; bad filters are problem+json."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from fixtures.http_service import HttpService
from fixtures.writepath import WritePath
from lotlink.services.fsma204 import COLUMNS
from regulator.scenario import BASE, MILK, SUGAR, TIN, Scenario

HEADERS = [header for _, header in COLUMNS]


def _tlc(gtin: str, lot: str) -> str:
    return f"(01){gtin}(10){lot}"


TLC = {
    "milk": _tlc(MILK, "MILK-1"),
    "sugar": _tlc(SUGAR, "SUGAR-1"),
    "base1": _tlc(BASE, "BASE-1"),
    "base2": _tlc(BASE, "BASE-2"),
    "tin_a": _tlc(TIN, "TIN-A"),
    "tin_b": _tlc(TIN, "TIN-B"),
}


def _export(wp: WritePath, headers: dict[str, str], **params: Any) -> Any:
    return wp.client.get("/api/v1/fsma204", params=params, headers=headers)


def _csv(
    wp: WritePath, s: Scenario, *, party: str = "regulator", **params: Any
) -> list[dict[str, str]]:
    response = _export(wp, s.parties[party].headers, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="fsma204-' in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == HEADERS
    return list(reader)


def _expected(s: Scenario) -> list[tuple[str, ...]]:
    """(CTE, TLC, quantity, unit, location, ship-from, ship-to, TLC source, inputs) of every
    CTE downstream of the milk, from the scenario's own figures."""
    g = s.glns
    rows = [
        ("Initial packing", TLC["milk"], "1000", "LTR", g["farm"], "", "", g["farm"], ""),
        ("Transformation", TLC["base1"], "800", "KGM", g["plant"], "", "", g["plant"],
         f"{TLC['milk']} 600 LTR; {TLC['sugar']} 100 KGM"),
        ("Transformation", TLC["base2"], "300", "KGM", g["plant"], "", "", g["plant"],
         f"{TLC['milk']} 400 LTR"),
        ("Transformation", TLC["tin_a"], "1000", "H87", g["plant"], "", "", g["plant"],
         f"{TLC['base1']} 400 KGM"),
        ("Transformation", TLC["tin_b"], "500", "H87", g["plant"], "", "", g["plant"],
         f"{TLC['base1']} 200 KGM; {TLC['base2']} 300 KGM"),
    ]  # fmt: skip
    for lot, retailer, shipped, received in (
        ("tin_a", "retailer1", "600", "600"),
        ("tin_a", "retailer2", "400", "390"),
        ("tin_b", "retailer3", "500", "500"),
    ):
        rows.append(
            (
                "Shipping",
                TLC[lot],
                shipped,
                "H87",
                g["plant"],
                g["plant"],
                g[retailer],
                g["plant"],
                "",
            )
        )
        rows.append(
            (
                "Receiving",
                TLC[lot],
                received,
                "H87",
                g[retailer],
                g["plant"],
                g[retailer],
                g["plant"],
                "",
            )
        )
    return sorted(rows)


def _essence(row: dict[str, str]) -> tuple[str, ...]:
    keys = ["Critical tracking event", "Traceability lot code", "Quantity", "Unit of measure",
            "Location GLN", "Ship-from GLN", "Ship-to GLN", "TLC source GLN",
            "Input TLCs (quantity, unit)"]  # fmt: skip
    return tuple(row[k] for k in keys)


def test_a_recall_export_holds_every_cte_downstream_with_its_receipt(
    write_path: WritePath, scenario: Scenario
) -> None:
    s = scenario
    rows = _csv(write_path, s, tlc=f"{MILK}/MILK-1", trace="downstream")
    assert sorted(_essence(r) for r in rows) == _expected(s)
    times = [r["Event time (UTC)"] for r in rows]
    assert times == sorted(times)  # in event time order as delivered
    names = {party: p for party, p in (("farm", "Green Valley Farm"), ("plant", "Alpine Nutrition Plant"), ("retailer2", "Hypermarket"))}  # fmt: skip
    shipped = next(
        r
        for r in rows
        if r["Ship-to GLN"] == s.glns["retailer2"] and r["Critical tracking event"] == "Shipping"
    )
    assert (shipped["Location name"], shipped["Ship-from name"], shipped["Ship-to name"]) == (
        names["plant"],
        names["plant"],
        names["retailer2"],
    )
    assert shipped["Product description"] == "Infant formula 800 g"
    assert (shipped["GTIN"], shipped["Lot code"]) == (TIN, "TIN-A")
    assert (
        shipped["Event date"] == "2026-03-04"
        and shipped["Event time (as recorded)"] == "2026-03-04T08:00:00.000+01:00"
    )
    assert shipped["Event time (UTC)"] == "2026-03-04T07:00:00Z"
    milk = next(r for r in rows if r["Critical tracking event"] == "Initial packing")
    assert milk["TLC source name"] == names["farm"] and milk["Recorded by"] == names["farm"]
    # Every row's receipt reference is the event's anchor, as its receipt says.
    digests = {d for ds in s.digests.values() for d in ds}
    for row in rows:
        assert row["Reference document type"] == "EPCIS event"
        assert row["Reference document number"] == row["Event ID"]
        assert row["Anchor status"] == "anchored"
        receipt = write_path.client.get(urlsplit(row["Receipt"]).path).json()
        assert receipt["digest"] in digests and receipt["eventID"] == row["Event ID"]
        assert row["Anchor transaction"] == receipt["transactionHash"]
        assert row["Anchor block"] == str(receipt["blockNumber"])
        assert row["Anchor log index"] == str(receipt["logIndex"])
        assert row["Merkle root"] == (receipt["root"] if receipt["mode"] == "batch" else "")


def test_the_xlsx_holds_the_same_rows_sortable(write_path: WritePath, scenario: Scenario) -> None:
    s = scenario
    as_csv = _csv(write_path, s, tlc=f"{MILK}/MILK-1", trace="downstream")
    response = _export(write_path, s.parties["regulator"].headers, tlc=f"{MILK}/MILK-1", trace="downstream", format="xlsx")  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["FSMA 204"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADERS
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:AC{len(as_csv) + 1}"
    assert len(values) == len(as_csv) + 1
    for cells, row in zip(values[1:], as_csv, strict=True):
        got = dict(zip(HEADERS, cells, strict=True))
        assert isinstance(got["Quantity"], int) and str(got["Quantity"]) == row["Quantity"]
        assert got["Event time (UTC)"].isoformat() + "Z" == row["Event time (UTC)"]
        for header in HEADERS:
            if header not in ("Quantity", "Event time (UTC)", "Anchor block", "Anchor log index"):
                assert (got[header] or "") == row[header], header
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Rows"] == str(len(as_csv)) and about["Chain id"] == "31337"


def test_filters_pick_the_rows(write_path: WritePath, scenario: Scenario) -> None:
    s = scenario

    def ctes(**params: Any) -> list[tuple[str, str]]:
        return sorted(
            (r["Critical tracking event"], r["Traceability lot code"])
            for r in _csv(write_path, s, **params)
        )

    tin_a = (
        [("Receiving", TLC["tin_a"])] * 2
        + [("Shipping", TLC["tin_a"])] * 2
        + [("Transformation", TLC["tin_a"])]
    )
    assert ctes(tlc=f"{TIN[1:]}/TIN-A") == sorted(tin_a)  # a GTIN-13 form
    assert ctes(lot_key=s.key("tin_a")) == sorted(tin_a)
    # Lots of a GTIN: their transformations, and those they went into.
    assert ctes(gtin=BASE) == sorted(
        ("Transformation", TLC[n]) for n in ("base1", "base2", "tin_a", "tin_b")
    )
    # A date range alone: every lot's CTEs of those days (the shipping day).
    assert ctes(date_from="2026-03-04", date_to="2026-03-04") == sorted(
        [("Shipping", TLC["tin_a"])] * 2 + [("Shipping", TLC["tin_b"])]
    )
    assert ctes(tlc=f"{TIN}/TIN-B", trace="upstream", date_to="2026-03-01") == sorted(
        ("Initial packing", TLC[n]) for n in ("milk", "sugar")
    )
    assert ctes(tlc=f"{SUGAR}/SUGAR-1", date_from="2026-03-06") == []


def test_a_supplier_gets_its_own_records(write_path: WritePath, scenario: Scenario) -> None:
    s = scenario
    rows = _csv(write_path, s, party="retailer2", tlc=f"{TIN}/TIN-A")
    assert [(r["Critical tracking event"], r["Quantity"]) for r in rows] == [("Receiving", "390")]
    assert len(_csv(write_path, s, party="plant", tlc=f"{TIN}/TIN-A")) == 5
    assert _export(write_path, {}, tlc=f"{TIN}/TIN-A").status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "field", "words"),
    [
        ({}, 422, "tlc", "name lots"),
        ({"tlc": "09521230006049"}, 422, "tlc.0", "not GTIN/LOT"),
        ({"tlc": ["x/A", "123/A"]}, 422, "tlc.0", "GTIN"),
        ({"tlc": f"{TIN}/bad lot ~"}, 422, "tlc.0", "CSET 82"),
        ({"tlc": f"{TIN}/NO-SUCH"}, 404, "tlc", "no lot"),
        ({"lot_key": "0x12"}, 422, "lot_key.0", "not a 0x lot key"),
        ({"gtin": "12345678"}, 422, "gtin", "check digit"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, 422, "date_to", "before"),
        ({"date_from": "March"}, 422, "query.date_from", "date"),
        ({"date_from": "2026-03-01", "trace": "both"}, 422, "trace", "needs lots"),
        ({"gtin": TIN, "trace": "sideways"}, 422, "query.trace", "upstream"),
        ({"gtin": TIN, "format": "pdf"}, 422, "query.format", "csv"),
    ],
)
def test_bad_filters_are_problem_json_naming_the_field(
    write_path: WritePath,
    scenario: Scenario,
    params: dict[str, Any],
    status: int,
    field: str,
    words: str,
) -> None:
    response = _export(write_path, scenario.parties["regulator"].headers, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    named = problem.get("field") or problem["errors"][0]["field"]
    assert named == field and words in problem["detail"], problem


def test_lotlink_export_fsma204_writes_the_file(
    scenario: Scenario, http_service: HttpService, tmp_path: Path
) -> None:
    s, svc = scenario, http_service
    regulator = s.parties["regulator"].token
    out = tmp_path / "recall.xlsx"
    link = f"https://id.gs1.org/01/{MILK}/10/MILK-1"
    ran = svc.lotlink(
        "export", "fsma204", "--lot", link, "--trace", "downstream", "--format", "xlsx",
        "--out", str(out), token=regulator,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert f"wrote {out}: 11 critical tracking event row(s)" in ran.stdout
    sheet = load_workbook(out)["FSMA 204"]
    essence = [_essence({h: "" if v is None else str(v) for h, v in zip(HEADERS, row, strict=True)})
               for row in sheet.iter_rows(min_row=2, values_only=True)]  # fmt: skip
    assert sorted(essence) == _expected(s)
    out_csv = tmp_path / "tin.csv"
    ran = svc.lotlink(
        "export", "fsma204", "--lot", f"{TIN}/TIN-A", "--out", str(out_csv), token=regulator
    )
    assert ran.returncode == 0 and "5 critical" in ran.stdout, ran.stderr
    assert len(list(csv.reader(io.StringIO(out_csv.read_text("utf-8-sig"))))) == 6
    for args, token, expected in [
        (["--from", "2026-03-05", "--to", "2026-03-01"], regulator, "422 date_to"),
        ([], regulator, "name lots"),
        (["--gtin", TIN], None, "401"),
        (["--lot", f"{TIN}/NO-SUCH"], regulator, "404"),
    ]:
        ran = svc.lotlink("export", "fsma204", *args, "--out", str(tmp_path / "x.csv"), token=token)
        assert ran.returncode == 1 and expected in ran.stderr, ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1
