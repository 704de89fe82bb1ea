"""Users are deactivated, never deleted; changes to users, group memberships and site memberships are historised."""

import pytest
from django.contrib.auth.models import Group
from django.db.models import ProtectedError

from ctit_trial.audit import REASON_REQUIRED, system_actor
from ctit_trial.errors import Conflict, InvalidInput
from ctit_trial.users import user_deactivate
from enrollment import services
from enrollment.roles import INVESTIGATOR, ROLES
from tests.factories import PASSWORD, make_staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.login(username="root", password=PASSWORD)
    return user


@pytest.fixture
def staff(roles, site_a):
    return make_staff_user(role_key=INVESTIGATOR, sites=[site_a], username="dr-li")


def test_the_admin_refuses_to_delete_a_user(client, root, staff):
    page = client.get(f"/admin/auth/user/{staff.pk}/delete/")
    bulk = client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [staff.pk]})

    assert page.status_code == 403
    assert bulk.status_code == 302  # no such action: back to the list, nothing deleted
    assert type(staff).objects.filter(pk=staff.pk).exists()


def test_a_user_named_in_history_cannot_be_deleted_at_all(staff):
    with pytest.raises(ProtectedError):
        system_actor().delete()
    with pytest.raises(ProtectedError):
        staff.delete()


def test_deactivation_from_the_admin_needs_a_reason_and_is_audited(client, root, staff):
    form = {"action": "deactivate", "_selected_action": [staff.pk], "index": 0}

    refused = client.post("/admin/auth/user/", {**form, "reason": " "}, follow=True)
    still_active = type(staff).objects.get(pk=staff.pk).is_active
    done = client.post("/admin/auth/user/", {**form, "reason": "Left the study team"}, follow=True)

    assert (still_active, REASON_REQUIRED in refused.content.decode()) == (True, True)
    assert "Deactivated: dr-li." in done.content.decode()
    latest = type(staff).objects.get(pk=staff.pk).history.first()
    assert (latest.is_active, latest.history_user, latest.history_change_reason) == (
        False,
        root,
        "Account deactivated: Left the study team",
    )


def test_the_deactivation_service_refuses_a_blank_reason_and_a_second_time(root, staff):
    with pytest.raises(InvalidInput) as blank:
        user_deactivate(actor=root, user=staff, reason="")
    user_deactivate(actor=root, user=staff, reason="Contract ended")

    with pytest.raises(Conflict, match="dr-li is already inactive."):
        user_deactivate(actor=root, user=staff, reason="Again")
    assert blank.value.errors == {"reason": [REASON_REQUIRED]}


def test_a_user_edit_in_the_admin_needs_a_reason_and_records_groups(client, root, staff):
    url = f"/admin/auth/user/{staff.pk}/change/"
    monitor = Group.objects.get(name=ROLES["monitor"].group_name)
    form = {
        "username": "dr-li",
        "first_name": "Li",
        "last_name": "Na",
        "email": "li@example.org",
        "is_active": "on",
        "is_staff": "on",
        "groups": [monitor.pk],
        "date_joined_0": "2026-03-01",
        "date_joined_1": "08:00:00",
    }

    refused = client.post(url, form)
    accepted = client.post(url, {**form, "reason_for_change": "Moved to monitoring"})

    assert refused.status_code == 200 and REASON_REQUIRED in refused.content.decode()
    assert accepted.status_code == 302
    rows = list(staff.history.all()[:3])
    assert {(row.history_user, row.history_change_reason) for row in rows} == {(root, "Moved to monitoring")}
    assert [g.group.name for g in rows[0].groups.all()] == [monitor.name]
    assert rows[0].first_name == "Li"


def test_a_role_assignment_is_historised_with_actor_and_reason(roles, root):
    user = type(root).objects.create_user("nurse", password=PASSWORD)

    services.role_assign(actor=root, user=user, role_key=INVESTIGATOR, reason="Delegated by the PI")

    latest = user.history.first()
    assert (latest.history_user, latest.history_change_reason) == (root, "Delegated by the PI")
    assert [row.group.name for row in latest.groups.all()] == [ROLES[INVESTIGATOR].group_name]


def test_site_membership_grant_and_revoke_are_historised(root, staff, site_a):
    membership = staff.site_memberships.get()

    services.membership_revoke(actor=root, membership=membership, reason="Moved to another hospital")

    rows = [(row.is_active, row.history_user, row.history_change_reason) for row in membership.history.all()]
    assert rows == [
        (False, root, "Moved to another hospital"),
        (True, system_actor(), "Access to site BJ01 granted"),
    ]


def test_history_leaves_out_the_password_and_logins(client, staff):
    before = staff.history.count()

    client.login(username="dr-li", password=PASSWORD)

    assert staff.history.count() == before
    assert not hasattr(staff.history.first(), "password")


def test_role_groups_are_historised_by_the_seed_with_actor_and_reason(roles):
    group = Group.objects.get(name=ROLES[INVESTIGATOR].group_name)

    services.roles_sync()  # unchanged: no new row

    rows = [(row.history_user, row.history_change_reason) for row in group.history.all()]
    assert set(rows) == {(system_actor(), "Study role synced from enrollment/roles.py")}
    assert len(rows) == 2  # created, then its permissions set
