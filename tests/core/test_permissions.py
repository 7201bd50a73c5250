"""Read-only admins read everything and change nothing, in the API and the admin."""

import uuid
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.profiles import make_profile
from trellis.blueprints.models import Blueprint
from trellis.core.roles import create_admin
from trellis.enrollment.models import EnrollmentPortal
from trellis.library.services import add_to_blueprint, upload_profile
from trellis.mdm.models import Command, Device

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")


@pytest.fixture
def viewer():
    return create_admin("viewer", "a long passphrase", read_only=True)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer)}")
    return client


@pytest.fixture
def viewer_admin(client: Client, viewer) -> Client:
    client.force_login(viewer)
    return client


@pytest.fixture
def device(devices) -> Device:
    row = Device.objects.get(udid=devices.enrolled().persona.udid)
    # A library profile on the Blueprint, so that every kind of row exists.
    profile, _ = upload_profile(make_profile())
    add_to_blueprint(row.blueprint, profile)
    return row


def _api_patterns() -> Iterator[URLPattern]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/":
            yield from entry.url_patterns


def _implemented(pattern: URLPattern) -> list[str]:
    view = pattern.callback
    actions = getattr(view, "actions", None)
    if actions is not None:
        return [method for method in actions if method in UNSAFE]
    return [method for method in UNSAFE if hasattr(view.view_class, method)]


def _existing_pk(pattern: URLPattern, name: str = "pk") -> str:
    """The id of a row the address can name, so that only permissions refuse."""
    if name == "command_uuid":
        command = Command.objects.first()
        return str(command.uuid) if command is not None else str(uuid.UUID(int=1))
    view = pattern.callback
    queryset = getattr(getattr(view, "cls", None), "queryset", None)
    row = queryset.model._default_manager.first() if queryset is not None else None
    return str(row.pk) if row is not None else "1"


def unsafe_endpoints() -> list[tuple[str, str]]:
    """Every unsafe method of every API address, read from the URLconf."""
    endpoints = []
    for pattern in _api_patterns():
        groups = pattern.pattern.regex.groupindex
        kwargs = {name: _existing_pk(pattern, name) for name in groups}
        address = reverse(pattern.name, kwargs=kwargs)
        endpoints += [(method, address) for method in _implemented(pattern)]
    return endpoints


def test_the_endpoint_list_is_read_from_the_urlconf(blueprint, device) -> None:
    found = set(unsafe_endpoints())

    b, d = blueprint.pk, device.pk
    assert {
        ("post", "/api/v1/blueprints/"),
        ("patch", f"/api/v1/blueprints/{b}/"),
        ("put", f"/api/v1/blueprints/{b}/"),
        ("post", f"/api/v1/blueprints/{b}/change-code/"),
        ("post", f"/api/v1/blueprints/{b}/push/"),
        ("post", f"/api/v1/devices/{d}/push/"),
        ("patch", "/api/v1/enrollment-portal/"),
        ("post", "/api/v1/enrollment-portal/lock/"),
        ("post", "/api/v1/enrollment-portal/unlock/"),
        ("put", "/api/v1/apns/certificate/"),
        ("post", "/api/v1/apns/csr/"),
    } <= found
    assert ("post", "/api/v1/devices/") not in found


def test_a_read_only_admin_reads_the_api(
    viewer_api: APIClient, blueprint, device, open_portal
) -> None:
    for address in (
        "/api/v1/blueprints/",
        f"/api/v1/blueprints/{blueprint.pk}/",
        "/api/v1/devices/",
        f"/api/v1/devices/{device.pk}/",
        f"/api/v1/devices/{device.pk}/commands/",
        "/api/v1/enrollment-portal/",
        "/api/v1/apns/certificate/",
    ):
        assert viewer_api.get(address).status_code == 200, address
    listed = viewer_api.get("/api/v1/devices/").json()["results"]
    assert [row["udid"] for row in listed] == [device.udid]


def test_a_read_only_admin_gets_403_from_every_unsafe_endpoint(
    viewer_api: APIClient, blueprint, device, open_portal
) -> None:
    code = blueprint.current_code.code

    endpoints = unsafe_endpoints()
    for method, address in endpoints:
        response = getattr(viewer_api, method)(
            address, {"name": "x", "enabled": False, "locked": True}, format="json"
        )
        assert response.status_code == 403, (method, address)

    blueprint.refresh_from_db()
    assert blueprint.current_code.code == code and blueprint.name == "Staff Macs"
    portal = EnrollmentPortal.load()
    assert portal.enabled and not portal.locked
    assert len(endpoints) >= 11


@pytest.mark.parametrize("method", UNSAFE)
def test_methods_nothing_implements_are_403_too(viewer_api: APIClient, method) -> None:
    assert getattr(viewer_api, method)("/api/v1/devices/").status_code == 403


def test_staff_read_but_others_may_not_even_read(django_user_model) -> None:
    plain = django_user_model.objects.create_user("someone", "", "a passphrase")
    client = APIClient()
    client.force_authenticate(plain)
    assert client.get("/api/v1/blueprints/").status_code == 403

    plain.is_staff = True
    plain.save()
    assert client.get("/api/v1/blueprints/").status_code == 200
    assert client.post("/api/v1/blueprints/", {"name": "x"}).status_code == 403


def test_a_model_permission_is_what_a_change_needs(
    django_user_model, blueprint
) -> None:
    editor = django_user_model.objects.create_user(
        "editor", "", "a passphrase", is_staff=True
    )
    editor.user_permissions.add(Permission.objects.get(codename="change_blueprint"))
    client = APIClient()
    client.force_authenticate(editor)

    renamed = client.patch(
        f"/api/v1/blueprints/{blueprint.pk}/", {"name": "Renamed"}, format="json"
    )
    created = client.post("/api/v1/blueprints/", {"name": "New"}, format="json")
    portal = client.post("/api/v1/enrollment-portal/lock/")

    assert renamed.status_code == 200
    assert created.status_code == 403, "creating needs add_blueprint"
    assert portal.status_code == 403


def _trellis_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model.__module__.startswith("trellis.")
    ]


def _admin_url(model: type, view: str, *args: object) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def test_a_read_only_admin_sees_every_trellis_page_and_may_change_none(
    viewer_admin: Client, device, blueprint, open_portal
) -> None:
    EnrollmentPortal.load()
    for model, _ in _trellis_admins():
        assert viewer_admin.get(_admin_url(model, "changelist")).status_code == 200
        assert viewer_admin.get(_admin_url(model, "add")).status_code == 403
        row = model._default_manager.first()
        assert row is not None, f"no {model.__name__} to try"
        change = _admin_url(model, "change", row.pk)
        page = viewer_admin.get(change)
        assert page.status_code == 200, change
        assert b'type="submit" value="Save"' not in page.content
        assert viewer_admin.post(change, {}).status_code == 403, change
        delete = _admin_url(model, "delete", row.pk)
        assert viewer_admin.post(delete, {"post": "yes"}).status_code == 403
        assert model._default_manager.filter(pk=row.pk).exists()


def test_a_read_only_admin_gets_403_from_every_admin_action(
    viewer_admin: Client, admin_user, device, blueprint, open_portal, rf
) -> None:
    code = blueprint.current_code.code
    tried = []
    for model, model_admin in _trellis_admins():
        request = rf.get("/")
        request.user = admin_user
        row = model._default_manager.first()
        for action in model_admin.get_actions(request):
            response = viewer_admin.post(
                _admin_url(model, "changelist"),
                {"action": action, "_selected_action": [row.pk], "index": 0},
            )
            assert response.status_code == 403, (model.__name__, action)
            tried.append(action)

    assert {"change_code_action", "push_devices", "push_now"} <= set(tried)
    assert Blueprint.objects.get().current_code.code == code
    assert Device.objects.get().last_push_at is None


def test_a_read_only_admin_cannot_reach_users_or_tokens(viewer_admin: Client) -> None:
    for address in ("/admin/auth/user/", "/admin/authtoken/tokenproxy/"):
        assert viewer_admin.get(address).status_code == 403, address
    index = viewer_admin.get("/admin/").content.decode()
    assert "Blueprints" in index and "Users" not in index


def test_the_api_root_links_every_collection(api: APIClient, viewer_api) -> None:
    root = api.get("/api/v1/")

    assert root.status_code == 200
    links = root.json()
    assert links["blueprints"] == "http://testserver/api/v1/blueprints/"
    for link in links.values():
        # A collection, or a single thing that is not there yet.
        assert api.get(link).status_code in (200, 404), link
    assert viewer_api.get("/api/v1/").status_code == 200
    assert APIClient().get("/api/v1/").status_code == 401
