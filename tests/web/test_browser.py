"""The scan pages in real headless Chromium (Playwright driving /usr/bin/chromium, never a
downloaded browser), at a phone's size, against the real service over HTTP. Screenshots are
kept under test-artifacts/web/."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from fixtures.writepath import WritePath
from lotlink.models import Actor, SerialScan
from lotlink.services.copies import COARSE_LOCATION_HEADER
from web.chromium import PHONE, phone_page, screenshot
from web.site import Site
from web.story import Story


def test_normal_recalled_and_tampered_lots_as_a_phone_shows_them(
    browser: Browser, scan_site: Site, database_url: str
) -> None:
    page = phone_page(browser)
    page.goto(scan_site.urls["normal"])
    expect(page.locator("h1")).to_have_text("Infant formula 800 g")
    expect(page.locator("#summary")).to_contain_text(
        "All 4 steps of this lot's journey are verified"
    )
    expect(page.locator(".step.verified")).to_have_count(4)
    expect(page.locator("#recall")).to_have_count(0)
    expect(page.locator(".cert")).to_contain_text("Certificate of analysis")
    expect(page.locator("#check-result")).to_have_attribute("aria-live", "polite")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "normal", database_url)
    # Source lots are one click away.
    page.get_by_role("link", name="Raw cow's milk, lot MILK-A1").click()
    expect(page.locator("#lot-code")).to_have_text("MILK-A1")

    page.goto(scan_site.urls["recalled"])
    banner = page.locator("#recall")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Recalled: do not use this product")
    expect(banner).to_contain_text("Class I recall")
    expect(banner).to_contain_text("Salmonella")
    expect(banner).to_contain_text("Do not feed it to a baby")
    assert banner.bounding_box()["y"] < 120  # type: ignore[index]  # on top, seen first
    red = page.evaluate("getComputedStyle(document.getElementById('recall')).backgroundColor")
    assert red == "rgb(179, 38, 30)"
    screenshot(page, "recalled", database_url)

    page.goto(scan_site.urls["tampered"])
    expect(page.locator("#summary")).to_contain_text("1 of 4 steps failed verification")
    failed = page.locator(".step.failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Inspected")
    expect(failed).to_contain_text("This record was changed after it was signed")
    expect(page.locator(".step.verified")).to_have_count(3)
    screenshot(page, "tampered", database_url)
    page.context.close()


def test_a_problem_report_goes_through_with_javascript_off(
    browser: Browser, scan_site: Site, database_url: str
) -> None:
    page = phone_page(browser, javascript=False)
    page.goto(scan_site.urls["normal"])
    expect(page.locator("#journey, .journey")).to_be_visible()

    form = page.locator("#report-form")
    form.get_by_label("Damaged").check()
    form.get_by_label("What happened?").fill("The tin was dented and the seal broken.")
    form.get_by_label("A photo").set_input_files(
        {"name": "notes.txt", "mimeType": "image/png", "buffer": b"not an image at all"}
    )
    form.get_by_label("How can we reach you?").fill("+44 20 7946 0000")
    form.get_by_role("button", name="Send report").click()
    error = page.locator("#report-error")
    expect(error).to_have_text("The photo must be a JPEG, PNG or WebP image.")
    # The input is kept: only the photo needs choosing again.
    expect(form.get_by_label("What happened?")).to_have_value(
        "The tin was dented and the seal broken."
    )
    expect(form.get_by_label("Damaged")).to_be_checked()
    error.scroll_into_view_if_needed()
    screenshot(page, "report-refused", database_url)

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 120, 120)).save(buffer, format="JPEG")
    page.locator("#report-form").get_by_label("A photo").set_input_files(
        {"name": "tin.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}
    )
    page.locator("#report-form").get_by_role("button", name="Send report").click()
    expect(page.locator("h1")).to_have_text("Thank you, your report was received")
    expect(page.locator("#report-reference")).to_have_text(re.compile(r"^PR-\w{8}$"))
    screenshot(page, "report-sent", database_url)
    page.context.close()


def test_a_bad_link_is_a_readable_page(
    browser: Browser, scan_site: Site, database_url: str
) -> None:
    page = phone_page(browser)
    response = page.goto(scan_site.base + "/01/09521230005020/10/X")
    assert response is not None and response.status == 400
    expect(page.locator("#error-reason")).to_contain_text("check digit")
    screenshot(page, "bad-link", database_url)
    page.context.close()


def test_a_copied_code_is_flagged_on_its_page(
    browser: Browser, scan_site: Site, database_url: str
) -> None:
    # One serial of the normal lot, scanned in Paris and then in Lyon a moment later.
    url = scan_site.urls["normal"] + "/21/C0PY1"
    for place in ("48.8566,2.3522", "45.7640,4.8357"):
        response = httpx.get(url, headers={COARSE_LOCATION_HEADER: place}, timeout=30)
        assert response.status_code == 200
    app = scan_site.server.config.app
    app.state.scans.flush()  # the scans, written and judged now rather than in half a second

    page = phone_page(browser)
    page.goto(url)
    warning = page.locator("#copy-warning")
    expect(warning).to_be_visible()
    expect(warning.locator("h2")).to_have_text("This code may be a copy")
    expect(warning).to_contain_text("km apart")
    expect(warning).to_contain_text("Suspected counterfeit")
    assert warning.bounding_box()["y"] < 120  # type: ignore[index]  # seen before anything else
    expect(page.locator("#supplier-grade")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "copied-code", database_url)
    # Another serial of the same lot is not touched.
    page.goto(scan_site.urls["normal"] + "/21/GENUINE1")
    expect(page.locator("#copy-warning")).to_have_count(0)
    page.context.close()


def test_a_suppliers_scorecard_page_draws_its_grade_history(
    browser: Browser, scan_site: Site, write_path: WritePath, story: Story, database_url: str
) -> None:
    with write_path.session() as session:
        farm = session.get_one(Actor, story.parties["farm"].address.lower())
    page = phone_page(browser)
    page.goto(scan_site.urls["milk_b"])
    page.locator("#supplier-grade").click()  # from the scan page to the supplier's scorecard
    expect(page).to_have_url(f"{scan_site.base}/suppliers/{farm.gln}")
    expect(page.locator("h1")).to_have_text("Green Valley Farm")
    expect(page.locator("#grade")).to_have_text("D")
    chart = page.locator("#grade-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(14)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "supplier-scorecard", database_url)
    page.context.close()


def test_the_scan_page_shares_only_a_rough_place_and_only_when_asked(
    browser: Browser, scan_site: Site, write_path: WritePath, database_url: str
) -> None:
    url = scan_site.urls["normal"] + "/21/SHARE1"
    page = phone_page(browser)
    page.context.grant_permissions(["geolocation"], origin=scan_site.base)
    page.context.set_geolocation({"latitude": 48.85661, "longitude": 2.35222})
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.method == "POST" else None)
    page.goto(url)
    share = page.locator("#share-place")
    expect(share).to_be_visible()
    assert sent == []  # nothing is sent before the person asks
    share.get_by_role("button", name="Share my approximate area").click()
    expect(page.locator("#share-place-result")).to_have_text(
        "Thank you. Only your approximate area (48.9, 2.4) was sent."
    )
    assert len(sent) == 1 and '"lat":48.9' in sent[0] and '"lon":2.4' in sent[0]
    screenshot(page, "share-place", database_url)
    scan_site.server.config.app.state.scans.flush()
    with write_path.session() as session:
        rows = session.execute(
            select(SerialScan.serial, SerialScan.lat_tenths, SerialScan.lon_tenths)
        ).all()
    assert [tuple(r) for r in rows] == [("SHARE1", 489, 24)]  # the view, given its place
    page.goto(scan_site.urls["normal"])  # a lot's own page has no such section
    expect(page.locator("#share-place")).to_have_count(0)
    page.context.close()
