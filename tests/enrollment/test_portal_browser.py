"""The portal in a real browser: Chromium driven by Playwright."""

import re
import shutil
from collections.abc import Iterator

import pytest

from tests.support.server import RunningServer, open_for_enrollment
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
    blueprint = open_for_enrollment(trellis_server, "Browser Macs")
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


def _policy_violations(page) -> list[str]:
    """Collect what Chromium reports as refused by the Content-Security-Policy."""
    reported: list[str] = []
    page.on(
        "console",
        lambda message: (
            reported.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return reported


def test_the_portal_breaks_no_rule_of_its_content_security_policy(page, portal) -> None:
    url, _ = portal
    violations = _policy_violations(page)

    response = page.goto(url)
    page.fill("#code", "AAAA-BBBB-CCCC")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")

    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px", (
        "the style sheet must load under the policy"
    )
    assert violations == []

    # The listener does hear the browser refuse something inline.
    page.evaluate(
        "() => { const s = document.createElement('style');"
        " s.textContent = 'body { margin: 3px }'; document.head.append(s); }"
    )
    page.wait_for_timeout(200)
    assert violations and "style-src" in violations[0]


def test_the_django_admin_works_under_the_policy(page, portal) -> None:
    from tests.support.server import ADMIN_PASSWORD

    url, _ = portal
    base = url.removesuffix("/enroll")
    violations = _policy_violations(page)

    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    for address in (
        "/admin/",
        "/admin/blueprints/blueprint/",
        "/admin/blueprints/blueprint/add/",
        "/admin/blueprints/blueprint/1/change/",
        "/admin/enrollment/enrollmentportal/1/change/",
        "/admin/mdm/device/",
        "/admin/audit/auditevent/",
        "/admin/apns/pushcertificate/add/",
    ):
        response = page.goto(f"{base}{address}")
        assert response.status == 200, address
        assert "content-security-policy" in response.headers

    # The admin's scripts run: ticking every row updates the selection count.
    page.goto(f"{base}/admin/blueprints/blueprint/")
    page.check("#action-toggle")
    counted = re.fullmatch(
        r"(\d+) of (\d+) selected", page.inner_text(".action-counter")
    )
    assert counted and counted[1] == counted[2] != "0"
    assert violations == []
