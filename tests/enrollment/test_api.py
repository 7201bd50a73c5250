import pytest
from django.test import Client

from trellis.audit.models import AuditEvent
from trellis.enrollment.models import EnrollmentPortal

pytestmark = pytest.mark.django_db

NOT_FOUND = b'{"detail":"Not found."}'


def test_the_portal_state_shows_the_switch_and_the_lock(api) -> None:
    body = api.get("/api/v1/enrollment-portal/").json()
    assert body == {
        "enabled": False,
        "locked": False,
        "url": "http://127.0.0.1:8000/enroll",
    }


def test_locking_closes_the_portal_and_unlocking_opens_it_again(
    api, client: Client, open_portal, blueprint
) -> None:
    locked = api.post("/api/v1/enrollment-portal/lock/")

    assert locked.status_code == 200
    assert locked.json()["locked"] is True and locked.json()["enabled"] is True
    for response in (
        client.get("/enroll"),
        client.post("/enroll", {"code": blueprint.current_code.code}),
        client.get("/enroll/x"),
    ):
        assert (response.status_code, response.content) == (404, NOT_FOUND)

    unlocked = api.post("/api/v1/enrollment-portal/unlock/")

    assert unlocked.json()["locked"] is False
    assert client.get("/enroll").status_code == 200
    actions = list(
        AuditEvent.objects.filter(actor="root")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["portal.locked", "portal.unlocked"]


def test_lock_with_patch_and_repeated_locks_are_recorded_once(
    api, client: Client, open_portal
) -> None:
    for _ in range(2):
        response = api.patch(
            "/api/v1/enrollment-portal/", {"locked": True}, format="json"
        )
        assert response.json()["locked"] is True
    api.post("/api/v1/enrollment-portal/lock/")

    assert EnrollmentPortal.load().locked
    assert client.get("/enroll").status_code == 404
    assert AuditEvent.objects.filter(action="portal.locked").count() == 1


def test_the_lock_outlasts_switching_the_portal_off_and_on(
    api, client: Client, open_portal
) -> None:
    api.post("/api/v1/enrollment-portal/lock/")
    api.patch("/api/v1/enrollment-portal/", {"enabled": False}, format="json")
    api.patch("/api/v1/enrollment-portal/", {"enabled": True}, format="json")

    assert client.get("/enroll").status_code == 404


def test_a_bad_value_is_a_400(api) -> None:
    response = api.patch(
        "/api/v1/enrollment-portal/", {"locked": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert "locked" in response.json()
