from datetime import timedelta

import pytest
from django.test import Client

from tests.support.certificates import push_pair
from trellis.apns.services import install_push_certificate
from trellis.blueprints.services import change_code
from trellis.enrollment.models import EnrollmentSession
from trellis.enrollment.services import set_portal_enabled

pytestmark = pytest.mark.django_db

NOT_FOUND = b'{"detail":"Not found."}'
PORTAL_ADDRESSES = [
    "/enroll",
    "/enroll/",
    "/enroll/anything",
    "/enroll/a/b.mobileconfig",
]


def _assert_portal_absent(client: Client) -> None:
    for address in PORTAL_ADDRESSES:
        for response in (client.get(address), client.post(address, {"code": "X"})):
            assert response.status_code == 404, address
            assert response.content == NOT_FOUND, address
            assert response["Content-Type"] == "application/json"


def test_without_a_push_certificate_the_portal_does_not_exist(client: Client) -> None:
    set_portal_enabled(True)
    _assert_portal_absent(client)


def test_while_disabled_the_portal_does_not_exist(
    client: Client, push_certificate
) -> None:
    set_portal_enabled(False)
    _assert_portal_absent(client)


def test_an_expired_push_certificate_closes_the_portal(
    client: Client, open_portal
) -> None:
    from trellis.apns.models import PushCertificate

    PushCertificate.objects.update(
        not_after=PushCertificate.objects.get().not_after - timedelta(days=400)
    )
    _assert_portal_absent(client)


def test_the_portal_page_has_one_code_field_and_explains_the_download(
    client: Client,
    open_portal,
) -> None:
    for address in ("/enroll", "/enroll/"):
        response = client.get(address)
        assert response.status_code == 200
        page = response.content.decode()
        assert page.count("<input") == 1 and 'name="code"' in page
        assert 'name="viewport"' in page
        assert ".mobileconfig" in page and "expected" in page


def test_a_valid_code_downloads_a_named_profile(
    client: Client, open_portal, blueprint
) -> None:
    code = blueprint.current_code.display.lower().replace("-", " ")

    response = client.post("/enroll", {"code": code}, HTTP_USER_AGENT="Mobile Safari")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-apple-aspen-config"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="Staff-Macs.mobileconfig"'
    )
    session = EnrollmentSession.objects.get()
    assert session.blueprint == blueprint
    assert session.enrollment_code == blueprint.current_code
    assert session.user_agent == "Mobile Safari"
    assert session.client_ip == "127.0.0.1"
    assert (
        timedelta(hours=23)
        < session.expires_at - session.created_at
        <= timedelta(hours=24)
    )


def _refusal(client: Client, code: str) -> tuple[int, bytes]:
    response = client.post("/enroll", {"code": code})
    assert response["Content-Type"].startswith("text/html")
    return response.status_code, response.content


def test_unknown_retired_and_disabled_codes_get_the_same_answer(
    client: Client,
    open_portal,
    blueprint,
) -> None:
    retired = blueprint.current_code.code
    change_code(blueprint)
    disabled_blueprint_code = blueprint.current_code.code
    blueprint.enrollment_enabled = False
    blueprint.save()

    answers = {
        _refusal(client, code)
        for code in (retired, disabled_blueprint_code, "ABCD-EFGH-JKMN", "", "x" * 500)
    }

    assert len(answers) == 1, (
        "unknown, retired and disabled codes must be indistinguishable"
    )
    status, body = answers.pop()
    assert status == 200
    assert b"That code did not work" in body
    assert not EnrollmentSession.objects.exists()


def test_change_code_refuses_the_old_code_and_accepts_the_new(
    client: Client,
    open_portal,
    blueprint,
) -> None:
    old = blueprint.current_code.code
    new = change_code(blueprint).code

    assert client.post("/enroll", {"code": old})["Content-Type"].startswith("text/html")
    assert (
        client.post("/enroll", {"code": new})["Content-Type"]
        == "application/x-apple-aspen-config"
    )


def test_renewing_the_push_certificate_keeps_the_portal_open(
    client: Client, open_portal
) -> None:
    fresh = push_pair()
    install_push_certificate(fresh.certificate_pem, fresh.key_pem)
    assert client.get("/enroll").status_code == 200


@pytest.mark.parametrize("method", ["put", "delete", "options", "patch"])
@pytest.mark.parametrize("address", ["/enroll", "/enroll/", "/enroll/x"])
def test_the_closed_portal_is_404_for_every_method(
    client: Client, method: str, address: str
) -> None:
    response = getattr(client, method)(address)
    assert (response.status_code, response.content) == (404, NOT_FOUND)


def test_other_methods_on_the_open_portal(client: Client, open_portal) -> None:
    assert client.put("/enroll").status_code == 405
    head = client.head("/enroll")
    assert (head.status_code, head.content) == (200, b"")


def test_a_huge_form_is_refused_before_it_is_read(client: Client, open_portal) -> None:
    response = client.post(
        "/enroll",
        "code=" + "A" * 100_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert not EnrollmentSession.objects.exists()
