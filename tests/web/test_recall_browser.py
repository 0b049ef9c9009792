"""A regulator's recall in real headless Chromium, at a phone's size and with JavaScript off:
sign in with an API token, issue a recall of an intermediate lot through the form, see it on the
list and on the scan page of a lot made from it, its page's lineage picture (the recalled lot,
the lots made from it with their shares, their sources, the places their stock went), then
close it. Over the multi-hop scenario of `regulator.scenario`; screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from fixtures.writepath import WritePath
from lotlink.gs1.digital_link import DigitalLink
from regulator.scenario import Scenario, write_scenario
from web.chromium import PHONE, phone_page, screenshot
from web.site import Site, start_site


@pytest.fixture
def scenario(write_path: WritePath) -> Scenario:
    return write_scenario(write_path)


@pytest.fixture
def site(write_path: WritePath, scenario: Scenario) -> Iterator[Site]:
    served = start_site(write_path)
    try:
        yield served
    finally:
        served.stop()


def scan_url(site: Site, lot: dict[str, str]) -> str:
    return site.base + DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"]).path


def test_a_regulator_issues_a_recall_sees_its_reach_and_closes_it(
    browser: Browser, site: Site, scenario: Scenario, database_url: str
) -> None:
    page = phone_page(browser, javascript=False)
    lots = scenario.lots
    tin_a = scan_url(site, lots["tin_a"])
    page.goto(tin_a)
    expect(page.locator("#recall")).to_have_count(0)  # and the page is now cached

    # Issuing needs signing in: the form sends the browser to the sign-in page and back.
    page.goto(site.base + "/recalls/new")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.get_by_label("API token").fill(scenario.parties["regulator"].token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Issue a recall")
    expect(page.locator(".signed-in")).to_contain_text("Food Safety Authority")

    form = page.locator("#issue-form")
    form.get_by_label("Lots").fill(f"{lots['base1']['gtin']} BASE-1")
    form.get_by_label("Class I:").check()
    form.get_by_label("Reason").fill("Cronobacter found in the formula base.")
    form.get_by_label("What consumers should do").fill("Do not feed it to a baby.")
    form.get_by_label("What the trade should do").fill("Withdraw and quarantine all stock.")
    form.get_by_role("button", name="Issue the recall").click()

    expect(page.locator("#recall-status")).to_have_text("Active")
    expect(page.locator("#recall-head h1")).to_have_text("Formula base, lot BASE-1")
    expect(page.locator("#recall-issuer")).to_contain_text("Food Safety Authority (regulator)")
    expect(page.locator("#wording-check")).to_contain_text("✓")
    expect(page.locator("#recall-tx")).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))
    graph = page.locator("#lineage-graph")
    expect(graph).to_be_visible()
    expect(graph.locator(".node.recalled")).to_have_count(1)
    expect(graph.locator(".node.recalled")).to_contain_text("BASE-1")
    affected = graph.locator(".node.affected")
    expect(affected).to_have_count(2)
    expect(affected.filter(has_text="TIN-A")).to_contain_text("50% of BASE-1")
    expect(affected.filter(has_text="TIN-B")).to_contain_text("25% of BASE-1")
    expect(graph.locator(".node.source")).to_have_count(2)  # the milk and the sugar
    expect(graph.locator(".node.input")).to_contain_text("BASE-2")  # TIN-B's other input
    places = graph.locator(".node.place")
    expect(places).to_have_count(3)
    for name in ("Corner Shop", "Hypermarket", "Pharmacy"):
        expect(places.filter(has_text=name)).to_have_count(1)
    expect(graph.locator(".edge-label.affected", has_text="400 kg")).to_have_count(1)
    expect(graph.locator(".edge-label.shipment", has_text="390 pcs received")).to_have_count(1)
    expect(page.locator("#lots-table tr.affected")).to_have_count(2)
    expect(page.locator("#shipments-table tr.short")).to_contain_text("less than shipped")
    # The page fits the phone; only the picture's own box may scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    boxes = _boxes(page)
    assert not _overlapping(boxes), _overlapping(boxes)
    page.locator("#lineage").scroll_into_view_if_needed()
    screenshot(page, "recall-page", database_url)
    recall_url = page.url

    page.get_by_role("navigation").get_by_role("link", name="Recalls").click()
    card = page.locator(".recall-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Class I")
    expect(card).to_contain_text("Cronobacter found in the formula base.")
    expect(card).to_contain_text("Do not feed it to a baby.")
    screenshot(page, "recall-list", database_url)

    # The scan page of a tin made from the base shows the recall at once, linked to its page.
    page.goto(tin_a)
    banner = page.locator("#recall")
    expect(banner).to_contain_text("Class I recall")
    expect(banner).to_contain_text("which is recalled")
    banner.get_by_role("link", name="More about this recall").click()
    assert page.url == recall_url

    page.get_by_role("link", name="Update or close this recall").click()
    page.get_by_label("Why it ends").fill("All stock destroyed under supervision.")
    page.get_by_role("button", name="Close the recall").click()
    expect(page.locator("#recall-status")).to_have_text("Closed")
    page.goto(site.base + "/recalls")
    expect(page.locator(".recall-card")).to_have_count(0)
    expect(page.locator("#no-recalls")).to_have_text("No product is recalled at the moment.")
    page.locator("#toggle-closed").click()
    expect(page.locator(".recall-card.closed")).to_contain_text("Closed")
    page.goto(tin_a)
    expect(page.locator("#recall")).to_have_count(0)
    page.context.close()


def _boxes(page: Page) -> list[dict[str, float]]:
    script = """[...document.querySelectorAll('#lineage-graph .node rect')].map(r => {
        const b = r.getBBox(); return {x: b.x, y: b.y, w: b.width, h: b.height};
    })"""
    boxes: list[dict[str, float]] = page.evaluate(script)
    return boxes


def _overlapping(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes[i + 1 :], i + 1)
        if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    ]  # fmt: skip
