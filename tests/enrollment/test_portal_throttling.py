"""Wrong codes are throttled per address and per portal; valid codes never are."""

import ipaddress
import statistics
import time
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings

from trellis.audit.models import AuditEvent
from trellis.blueprints.services import change_code
from trellis.enrollment import throttle
from trellis.enrollment.models import EnrollmentSession

pytestmark = pytest.mark.django_db

PROFILE = "application/x-apple-aspen-config"
WRONG = "AAAA-BBBB-CCCC"


def _post(client: Client, code: str, address: str = "198.51.100.7", **extra):
    return client.post("/enroll", {"code": code}, REMOTE_ADDR=address, **extra)


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=3)
def test_past_the_limit_wrong_codes_get_429_with_retry_after(
    client: Client, open_portal
) -> None:
    before = [_post(client, WRONG) for _ in range(3)]
    throttled = _post(client, WRONG)

    assert [r.status_code for r in before] == [200, 200, 200]
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 600
    assert throttled["Content-Type"].startswith("text/html")
    page = throttled.content.decode()
    assert "too many codes that did not work" in page
    assert 'name="code"' in page, "a valid code may still be entered"
    assert _post(client, WRONG, address="198.51.100.8").status_code == 200


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=3)
def test_a_valid_code_from_a_throttled_address_still_downloads(
    client: Client, open_portal, blueprint
) -> None:
    for _ in range(5):
        _post(client, WRONG)
    assert _post(client, WRONG).status_code == 429

    for _ in range(10):
        response = _post(client, blueprint.current_code.code)
        assert response.status_code == 200
        assert response["Content-Type"] == PROFILE

    assert _post(client, WRONG).status_code == 429


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=3)
def test_valid_downloads_do_not_count(client: Client, open_portal, blueprint) -> None:
    for _ in range(10):
        assert _post(client, blueprint.current_code.code)["Content-Type"] == PROFILE

    statuses = [_post(client, WRONG).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=0, TRELLIS_PORTAL_FAILURES_TOTAL=5
)
def test_the_portal_wide_limit_counts_every_address(
    client: Client, open_portal, blueprint
) -> None:
    statuses = [_post(client, WRONG, f"198.51.100.{i}").status_code for i in range(7)]

    assert statuses == [200] * 5 + [429] * 2
    fresh = _post(client, blueprint.current_code.code, address="203.0.113.9")
    assert fresh["Content-Type"] == PROFILE
    assert AuditEvent.objects.filter(
        action="portal.throttled", detail__scope="portal"
    ).exists()


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=2,
    TRELLIS_TRUSTED_PROXIES=(ipaddress.ip_network("10.0.0.0/8"),),
)
def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(
    client: Client, open_portal, blueprint
) -> None:
    def through_proxy(code: str, forwarded: str):
        return _post(client, code, "10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    first = [through_proxy(WRONG, "203.0.113.1").status_code for _ in range(3)]
    # A forged left-most entry does not change who is counted.
    forged = through_proxy(WRONG, "192.0.2.55, 203.0.113.1").status_code
    other = through_proxy(WRONG, "203.0.113.2").status_code
    download = through_proxy(blueprint.current_code.code, "192.0.2.1, 203.0.113.3")

    assert first == [200, 200, 429]
    assert forged == 429
    assert other == 200
    assert download["Content-Type"] == PROFILE
    assert EnrollmentSession.objects.get().client_ip == "203.0.113.3"


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=2)
def test_an_untrusted_peer_cannot_escape_its_count_with_the_header(
    client: Client, open_portal
) -> None:
    statuses = [
        _post(client, WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=2)
def test_the_page_and_the_download_are_not_throttled_by_get(
    client: Client, open_portal
) -> None:
    for _ in range(3):
        _post(client, WRONG)
    assert client.get("/enroll", REMOTE_ADDR="198.51.100.7").status_code == 200
    assert client.head("/enroll", REMOTE_ADDR="198.51.100.7").status_code == 200


def _refused_codes(blueprint) -> dict[str, str]:
    """A code never issued, a retired one, and one whose Blueprint is switched off."""
    retired = blueprint.current_code.code
    change_code(blueprint)
    disabled = blueprint.current_code.code
    blueprint.enrollment_enabled = False
    blueprint.save()
    return {"unknown": "ABCD-EFGH-JKMN", "retired": retired, "disabled": disabled}


@override_settings(
    TRELLIS_PORTAL_FAILURES_PER_ADDRESS=0, TRELLIS_PORTAL_FAILURES_TOTAL=0
)
def test_unknown_retired_and_disabled_codes_are_indistinguishable(
    client: Client, open_portal, blueprint
) -> None:
    codes = _refused_codes(blueprint)
    answers: dict[str, set[tuple[int, bytes]]] = {kind: set() for kind in codes}
    timings: dict[str, list[float]] = {kind: [] for kind in codes}

    # Interleaved, so that drift in the machine's speed touches all alike.
    for _ in range(60):
        for kind, code in codes.items():
            started = time.perf_counter()
            response = _post(client, code)
            timings[kind].append(time.perf_counter() - started)
            answers[kind].add((response.status_code, response.content))

    assert all(len(seen) == 1 for seen in answers.values())
    assert len(set.union(*answers.values())) == 1, "the answers must be identical"
    medians = {kind: statistics.median(times) for kind, times in timings.items()}
    fastest, slowest = min(medians.values()), max(medians.values())
    # Generous: a real difference (a path that skips the database, say) shows
    # up as an order of magnitude, while noise on a busy machine stays far below.
    assert slowest < 3 * fastest, medians


@override_settings(TRELLIS_PORTAL_FAILURES_PER_ADDRESS=1)
def test_throttled_answers_are_identical_for_every_kind_of_wrong_code(
    client: Client, open_portal, blueprint, monkeypatch
) -> None:
    # The page names the minutes left: stop the throttle's clock.
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 6e8 + 30))
    codes = _refused_codes(blueprint)
    _post(client, WRONG)

    answers = {
        (r.status_code, r["Retry-After"], r.content)
        for r in (_post(client, code) for code in codes.values())
    }

    assert len(answers) == 1
    assert answers.pop()[:2] == (429, "570")
