"""Headless Chromium for the browser tests: Playwright driving /usr/bin/chromium (never a
downloaded browser), one per test session (the `browser` fixture, in conftest), pages at a
phone's size that may load nothing but the service itself, and screenshots kept under
test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def phone_page(browser: Browser, *, javascript: bool = True) -> Page:
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    # Nothing on these pages may come from anywhere but the service itself.
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("http://127.0.0.1:")
            else route.abort()
        ),
    )
    return context.new_page()


def screenshot(page: Page, name: str, database_url: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    page.screenshot(path=str(ARTIFACTS / f"{name}-{backend}.png"), full_page=True)
