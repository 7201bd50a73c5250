"""The portal in a real browser: Chromium driven by Playwright."""

import shutil
from collections.abc import Iterator

import pytest

from tests.support.certificates import push_pair
from tests.support.server import RunningServer
from trellis.pki.cms import verify_signed_data

pytestmark = [pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a headless Chromium that must not reach out to the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which("chromium"):
        pytest.fail(
            "Chromium is missing: install the Debian package chromium "
            "(scripts/system-deps)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def portal(trellis_server: RunningServer) -> tuple[str, str]:
    pair = push_pair()
    with trellis_server.api() as api:
        api.put(
            "/apns/certificate/",
            json={"certificate": pair.certificate_pem, "private_key": pair.key_pem},
        )
        api.patch("/enrollment-portal/", json={"enabled": True})
        blueprint = api.post(
            "/blueprints/", json={"name": "Browser Macs", "enrollment_enabled": True}
        ).json()
    return f"{trellis_server.url}/enroll", blueprint["enrollment_code"]


@pytest.fixture
def page(browser):
    context = browser.new_context(
        accept_downloads=True, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    yield page
    context.close()


def test_typing_the_code_downloads_the_profile(page, portal, tmp_path) -> None:
    url, code = portal
    page.goto(url)
    assert page.title().startswith("Enroll your device")
    assert "That is expected" in page.inner_text("body")

    page.fill("#code", code.lower().replace("-", " "))
    with page.expect_download() as download_info:
        page.click("button[type=submit]")
    download = download_info.value

    assert download.suggested_filename == "Browser-Macs.mobileconfig"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert verify_signed_data(saved.read_bytes()).content.startswith(b"<?xml")


def test_a_wrong_code_shows_a_readable_error(page, portal) -> None:
    url, _ = portal
    page.goto(url)
    page.fill("#code", "AAAA-BBBB-CCCC")
    page.click("button[type=submit]")

    alert = page.locator("[role=alert]")
    assert alert.is_visible()
    assert "did not work" in alert.inner_text()
    assert page.get_attribute("#code", "aria-invalid") == "true"


def test_the_page_fits_a_phone_screen(page, portal) -> None:
    url, _ = portal
    page.goto(url)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
    box = page.locator("#code").bounding_box()
    assert box is not None and box["width"] > 250
