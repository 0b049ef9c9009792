"""Recall pages over plain HTTP: issuing, updating and closing through the forms (on chain, as
the API does), the list and its lookups, each recall's page and picture, and every refusal as a
page in plain words: unknown recall (404), bad form values (the form again, input kept), a
missing or wrong CSRF token (403), the wrong role or another supplier's lot (403)."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from fastapi.testclient import TestClient

from fixtures.writepath import Party, WritePath
from lotlink.models import Recall
from web.story import Story
from web.test_session import client_of, hidden, sign_in


def signed_in(wp: WritePath, party: Party) -> tuple[TestClient, str]:
    """A browser signed in as `party`, and its forms' CSRF token."""
    browser = client_of(wp)
    assert sign_in(browser, party).status_code == 303
    return browser, hidden(browser.get("/recalls/new").text, "csrf_token")


def lot_line(story: Story, name: str) -> str:
    lot = story.lots[name]
    return f"{lot['gtin']} {lot['lot_code']}"


def issue_form(story: Story, csrf: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "lots": lot_line(story, "milk"),
        "recall_class": "2",
        "reason": "Listeria found in the farm's bulk tank.",
        "consumer_instructions": "Do not use it; return it to the shop.",
        "trade_instructions": "Withdraw lots made from it and quarantine stock.",
        **fields,
    }


def form_error(page: str) -> str:
    found = re.search(r'id="form-error">([^<]*)<', page)
    assert found, "no form error on the page"
    return found.group(1)


def test_a_regulator_issues_updates_and_closes_a_recall_through_the_forms(
    write_path: WritePath, story: Story
) -> None:
    browser, csrf = signed_in(write_path, story.parties["regulator"])
    normal = story.path("normal")
    assert 'id="recall"' not in browser.get(normal).text  # before: nothing on the scan page

    # A pasted product link works as well as "GTIN lot".
    form = issue_form(story, csrf, lots=f"https://example.org{story.path('milk')}\n")
    response = browser.post("/recalls", data=form)
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    recall_id = int(url.rsplit("/", 1)[1])
    with write_path.session() as session:
        row = session.get(Recall, recall_id)
        assert row is not None and row.recall_class == 2 and row.tx_hash
        assert row.reason == "Listeria found in the farm's bulk tank."

    page = browser.get(url).text
    assert 'id="recall-status">Active' in page
    assert "Listeria found in the farm&#39;s bulk tank." in page
    assert "Withdraw lots made from it" in page
    assert 'id="wording-check">✓' in page
    assert row.tx_hash in page and f"/api/v1/recalls/{recall_id}/evidence" in page
    # The picture: milk recalled, both formula lots made from it affected with their share.
    svg = page[page.index("<svg") : page.index("</svg>")]
    milk, formula = story.lots["milk"], story.lots["normal"]
    assert f'class="node recalled" data-key="{milk["lot_key"]}"' in svg
    assert f'class="node affected" data-key="{formula["lot_key"]}"' in svg
    assert "20% of MILK-A1" in svg  # 1,000 of the 5,000 L
    assert ">1,000 L<" in svg  # the quantity each formula lot consumed
    assert 'class="node place"' in svg and "GLN 9521234000006" in svg
    assert "milk_b" not in svg and story.lots["milk_b"]["lot_key"] not in svg
    # The recall is on the list, and on the scan page of a lot made from the milk at once.
    listing = browser.get("/recalls").text
    assert f'id="recall-{recall_id}"' in listing and "Class II" in listing
    scan = browser.get(normal).text
    assert 'id="recall"' in scan and f'href="/recalls/{recall_id}"' in scan

    update = browser.post(
        f"/recalls/{recall_id}/update",
        data={"csrf_token": csrf, "recall_class": "1", "reason": "Listeria monocytogenes."},
    )
    assert update.status_code == 303
    assert "Class I recall" in browser.get(url).text
    unsaid = browser.post(
        f"/recalls/{recall_id}/close", data={"csrf_token": csrf, "close_reason": " "}
    )
    assert unsaid.status_code == 422
    assert form_error(unsaid.text) == "Please write why the recall ends."
    assert "Listeria monocytogenes.</textarea>" in unsaid.text  # the update form keeps its wording
    close = browser.post(
        f"/recalls/{recall_id}/close", data={"csrf_token": csrf, "close_reason": "Stock destroyed."}
    )
    assert close.status_code == 303
    page = browser.get(url).text
    assert 'id="recall-status">Closed' in page
    assert 'id="recall-closed-reason">Stock destroyed.<' in page
    assert 'id="closing-check">✓' in page
    # Words edited in the database no longer match the chain's hash, and the page says so;
    # without words it says the chain holds only their hash.
    for words, check in (("Recalled by mistake.", "✗"), (None, "…")):
        with write_path.session() as session:
            closed = session.get(Recall, recall_id)
            assert closed is not None
            closed.closed_reason = words
            session.commit()
        page = browser.get(url).text
        assert f'id="closing-check">{check}' in page
        assert ("Recalled by mistake." in page) is (words is not None)
    assert "Stock destroyed." not in page and "as a hash only" in page
    assert f'id="recall-{recall_id}"' not in browser.get("/recalls").text
    assert f'id="recall-{recall_id}"' in browser.get("/recalls?closed=1").text
    again = browser.post(
        f"/recalls/{recall_id}/close", data={"csrf_token": csrf, "close_reason": "Twice."}
    )
    assert again.status_code == 422
    assert form_error(again.text) == "This recall is closed: it can no longer change."


def test_bad_form_values_are_shown_on_the_form_with_the_input_kept(
    write_path: WritePath, story: Story
) -> None:
    browser, csrf = signed_in(write_path, story.parties["regulator"])
    gtin = story.lots["milk"]["gtin"]
    bad_digit = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    cases = [
        ({"lots": ""}, "Please name at least one lot: its GTIN and lot code."),
        ({"lots": "milk please"}, "is not a GTIN followed by a lot code"),
        ({"lots": f"{bad_digit} MILK-A1"}, f"the GTIN {bad_digit} check digit is"),
        ({"lots": f"{gtin} NOPE-1"}, f"Line 1 of the lots: no lot NOPE-1 of GTIN {gtin}"),
        (
            {"lots": f"{lot_line(story, 'milk')}\n{gtin}/MILK-A1"},
            "Line 2 of the lots names lot MILK-A1 again.",
        ),
        ({"recall_class": "4"}, "Please choose the class of the recall: I, II or III."),
        ({"reason": "   "}, "Please write the reason."),
        ({"trade_instructions": "x" * 4001}, "too long: at most 4,000 characters"),
    ]
    for fields, message in cases:
        response = browser.post("/recalls", data=issue_form(story, csrf, **fields))
        assert response.status_code == 422, (fields, response.text[:300])
        assert message in form_error(response.text), (fields, form_error(response.text))
        assert "Traceback" not in response.text
        # What was typed is still there.
        assert "Do not use it; return it to the shop.</textarea>" in response.text
    kept = browser.post("/recalls", data=issue_form(story, csrf, reason="", lots="123 X"))
    assert "123 X</textarea>" in kept.text
    with write_path.session() as session:
        assert session.query(Recall).count() == 1  # only the story's own recall


def test_forged_forms_and_wrong_roles_are_403_pages(write_path: WritePath, story: Story) -> None:
    browser, csrf = signed_in(write_path, story.parties["regulator"])
    for token in (None, "", "0" * 64):
        data = issue_form(story, csrf)
        data.pop("csrf_token")
        if token is not None:
            data["csrf_token"] = token
        response = browser.post("/recalls", data=data)
        assert response.status_code == 403
        assert "This form was refused" in response.text and 'id="error-reason"' in response.text
    # Another session's token is not this one's.
    other, other_csrf = signed_in(write_path, story.parties["farm"])
    assert other_csrf != csrf
    assert browser.post("/recalls", data=issue_form(story, other_csrf)).status_code == 403

    # A carrier may not issue recalls: the form and the post are 403 pages.
    carrier, carrier_csrf = client_of(write_path), ""
    sign_in(carrier, story.parties["carrier"])
    page = carrier.get("/recalls/new")
    assert page.status_code == 403 and "may not issue or change recalls" in page.text
    carrier_csrf = hidden(carrier.get("/sign-in").text, "csrf_token")
    assert carrier.post("/recalls", data=issue_form(story, carrier_csrf)).status_code == 403

    # A supplier recalls its own lots only: another's lot is refused on the form.
    refused = other.post(
        "/recalls", data=issue_form(story, other_csrf, lots=lot_line(story, "normal"))
    )
    assert refused.status_code == 403
    assert "lot F-NORMAL belongs to another supplier" in form_error(refused.text)
    # ...and may not change the regulator's recall of its milk.
    (story_recall,) = re.findall(r'id="recall-(\d+)"', browser.get("/recalls").text)
    edit = other.get(f"/recalls/{story_recall}/edit")
    assert edit.status_code == 403 and "may not change recall" in edit.text

    # Signed out: a page that needs signing in sends to the sign-in page; a post is a 401 page.
    stranger = client_of(write_path)
    to_sign_in = stranger.get("/recalls/new")
    assert to_sign_in.status_code == 303
    assert to_sign_in.headers["location"] == "/sign-in?next=%2Frecalls%2Fnew"


def test_a_supplier_recalls_its_own_lot_voluntarily(write_path: WritePath, story: Story) -> None:
    farm, csrf = signed_in(write_path, story.parties["farm"])
    response = farm.post("/recalls", data=issue_form(story, csrf, recall_class="3"))
    assert response.status_code == 303
    page = farm.get(response.headers["location"]).text
    assert "(voluntary recall by the supplier)" in page and "Green Valley Farm" in page
    assert 'id="change-recall"' in page  # its issuer may change it


def test_unknown_recalls_and_bad_lookups_are_pages(write_path: WritePath, story: Story) -> None:
    client = client_of(write_path)
    missing = client.get("/recalls/999999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert 'id="error-reason">No recall 999999' in missing.text
    assert client.get("/recalls/abc").status_code == 404
    bad = client.get("/recalls", params={"gtin": "123"})
    assert bad.status_code == 422 and 'id="filter-error"' in bad.text
    assert 'value="123"' in bad.text
    found = client.get("/recalls", params={"gtin": story.lots["recalled"]["gtin"]})
    assert found.status_code == 200 and "MILK-B2" in found.text  # inherited through the milk
    none = client.get("/recalls", params={"issued_to": "2000-01-01"})
    assert 'id="no-recalls">No recall matches this lookup.' in none.text


def test_the_picture_escapes_every_text_and_stands_alone(
    write_path: WritePath, story: Story
) -> None:
    """Lot codes may hold & < > " (GS1 CSET 82) and product names anything: the page and the
    picture file stay well-formed, and show them as typed."""
    plant, milk = story.parties["plant"], story.lots["milk"]
    odd = write_path.lot(
        plant, story.lots["normal"]["gtin"], 'X&Y<"1">', quantity=10, unit="H87",
        product_name='Formula <script>alert("x")</script> & co',
        parents=[{"gtin": milk["gtin"], "lot_code": milk["lot_code"], "quantity": 250}],
    )  # fmt: skip
    browser, csrf = signed_in(write_path, story.parties["regulator"])
    response = browser.post("/recalls", data=issue_form(story, csrf))
    url = response.headers["location"]
    page = browser.get(url).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page

    picture = browser.get(url + "/lineage.svg")
    assert picture.status_code == 200
    assert picture.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(picture.content)  # well-formed, or this raises
    svg = "{http://www.w3.org/2000/svg}"
    node = root.find(f".//{svg}g[@data-key='{odd['lot_key']}']")
    assert node is not None and "affected" in node.attrib["class"]
    texts = [t.text for t in node.iter(f"{svg}text")]
    assert texts == ["Formula <script>aler…", 'Lot X&Y<"1">', "5% of MILK-A1"]


def test_a_recall_through_the_api_shows_on_cached_scan_pages_at_once(
    write_path: WritePath, story: Story
) -> None:
    """The API does not touch the page cache; the scan page's fingerprint sees the recall."""
    client, regulator = client_of(write_path), story.parties["regulator"]
    normal = story.path("normal")
    assert 'id="recall"' not in client.get(normal).text  # rendered and cached
    assert 'id="recall"' not in client.get(normal).text  # from the cache
    milk = story.lots["milk"]
    issued = client.post(
        "/api/v1/recalls",
        headers=regulator.headers,
        json={"lots": [{"lot_key": milk["lot_key"]}], "recall_class": 2, "reason": "Listeria."},
    )
    assert issued.status_code == 201, issued.text
    recall_id = issued.json()["recall_id"]
    assert f'href="/recalls/{recall_id}"' in client.get(normal).text
    closed = client.post(
        f"/api/v1/recalls/{recall_id}/close", headers=regulator.headers, json={"reason": "Done."}
    )
    assert closed.status_code == 200, closed.text
    assert f'href="/recalls/{recall_id}"' not in client.get(normal).text
