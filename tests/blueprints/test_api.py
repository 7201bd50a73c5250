import pytest

from trellis.audit.models import AuditEvent
from trellis.blueprints.codes import normalize_code
from trellis.blueprints.models import Blueprint, EnrollmentCode

pytestmark = pytest.mark.django_db


def test_create_list_read_and_update(api) -> None:
    created = api.post("/api/v1/blueprints/", {"name": "Lab iPads"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Lab iPads"
    assert body["enrollment_enabled"] is False
    assert len(normalize_code(body["enrollment_code"])) == 12

    listed = api.get("/api/v1/blueprints/").json()
    assert [b["name"] for b in listed["results"]] == ["Lab iPads"]

    updated = api.patch(
        f"/api/v1/blueprints/{body['id']}/", {"enrollment_enabled": True}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["enrollment_enabled"] is True
    assert (
        api.get(f"/api/v1/blueprints/{body['id']}/").json()["enrollment_enabled"]
        is True
    )


def test_change_code_issues_a_new_code_and_keeps_the_history(api, blueprint) -> None:
    old = blueprint.current_code

    response = api.post(f"/api/v1/blueprints/{blueprint.pk}/change-code/")

    assert response.status_code == 200
    new_code = normalize_code(response.json()["enrollment_code"])
    assert new_code != old.code
    history = EnrollmentCode.objects.filter(blueprint=blueprint).order_by("version")
    assert [(c.version, c.retired_at is not None) for c in history] == [
        (1, True),
        (2, False),
    ]
    assert AuditEvent.objects.filter(action="blueprint.code_changed").count() == 1


def test_codes_are_unique_across_blueprints(api) -> None:
    codes = {
        api.post("/api/v1/blueprints/", {"name": f"B{i}"}, format="json").json()[
            "enrollment_code"
        ]
        for i in range(20)
    }
    assert len(codes) == 20


def test_duplicate_name_is_a_readable_400(api, blueprint) -> None:
    response = api.post("/api/v1/blueprints/", {"name": blueprint.name}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_the_api_needs_an_admin(client, blueprint) -> None:
    assert client.get("/api/v1/blueprints/").status_code == 401


def test_switching_enrollment_is_in_the_audit_trail(api, blueprint) -> None:
    api.patch(
        f"/api/v1/blueprints/{blueprint.pk}/",
        {"enrollment_enabled": False},
        format="json",
    )
    event = AuditEvent.objects.get(action="blueprint.updated")
    assert event.actor == "root"
    assert event.detail == {"enrollment_enabled": False}


@pytest.mark.parametrize("escaped", ["ctl\\u0001name", "nul\\u0000name", "bad\\ud800"])
def test_names_that_no_profile_could_carry_are_refused(api, escaped) -> None:
    # Sent as JSON escapes, as a client would send them.
    body = '{"name": "' + escaped + '"}'
    response = api.post("/api/v1/blueprints/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Blueprint.objects.exists()
