"""History rows name the user and the reason for change, from the API, the admin and services."""

import pytest

from enrollment.models import Site
from enrollment.roles import DATA_MANAGER
from tests.factories import PASSWORD, make_staff_user

pytestmark = pytest.mark.django_db


def test_api_edit_records_user_old_and_new_values_and_reason(api_client_for, site_a):
    client = api_client_for(DATA_MANAGER, site_a)

    response = client.patch(
        "/api/v1/sites/BJ01/", {"name": "Beijing main campus", "reason": "Official name"}, format="json"
    )

    assert response.status_code == 200
    latest, previous = site_a.history.all()[:2]
    assert latest.history_user == client.user
    assert latest.history_change_reason == "Official name"
    assert latest.history_type == "~"
    assert (previous.name, latest.name) == ("Beijing", "Beijing main campus")
    assert [change.field for change in latest.diff_against(previous).changes] == ["name"]


def test_admin_edit_requires_a_reason(client, django_user_model, site_a):
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.login(username="root", password=PASSWORD)
    url = f"/admin/enrollment/site/{site_a.pk}/change/"
    form = {"name": "Renamed", "time_zone": "Asia/Shanghai", "is_active": "on"}

    refused = client.post(url, form)
    accepted = client.post(url, {**form, "reason_for_change": "Renamed by the sponsor"})

    assert refused.status_code == 200
    assert "A reason for change is required when editing existing data." in refused.content.decode()
    assert accepted.status_code == 302
    latest = Site.objects.get(pk=site_a.pk).history.first()
    assert (latest.name, latest.history_user.username, latest.history_change_reason) == (
        "Renamed",
        "root",
        "Renamed by the sponsor",
    )


def test_admin_shows_history_with_reason(client, django_user_model, roles, site_a):
    user = make_staff_user(role_key=DATA_MANAGER, sites=[site_a], username="dm")
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.login(username="root", password=PASSWORD)

    page = client.get(f"/admin/enrollment/site/{site_a.pk}/history/")

    assert page.status_code == 200
    assert "Site created" in page.content.decode()
    assert user.site_memberships.get().history.first().history_change_reason == "Access to site BJ01 granted"


def test_admin_cannot_delete_or_revert(client, django_user_model, site_a):
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.login(username="root", password=PASSWORD)
    record = site_a.history.first()

    delete = client.post(f"/admin/enrollment/site/{site_a.pk}/delete/", {"post": "yes"})
    revert = client.get(f"/admin/enrollment/site/{site_a.pk}/history/{record.history_id}/")

    assert delete.status_code == 403
    assert Site.objects.filter(pk=site_a.pk).exists()
    assert "Revert" not in revert.content.decode()


def test_admin_site_edit_is_limited_to_member_sites(client, roles, site_a, site_b):
    make_staff_user(role_key=DATA_MANAGER, sites=[site_a], username="dm")
    client.login(username="dm", password=PASSWORD)
    form = {"name": "Renamed", "time_zone": "Asia/Shanghai", "is_active": "on", "reason_for_change": "r"}

    own = client.post(f"/admin/enrollment/site/{site_a.pk}/change/", form)
    other = client.post(f"/admin/enrollment/site/{site_b.pk}/change/", form)

    assert own.status_code == 302
    assert other.status_code == 404  # not visible: not found (never a redirect that hints it exists)
    assert Site.objects.get(pk=site_b.pk).name == "Shanghai"
