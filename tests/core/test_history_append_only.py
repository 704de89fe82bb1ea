"""History cannot be changed unseen: PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE for the app's role."""

import os

import pytest
from django.apps import apps
from django.db import ProgrammingError, connection, models, transaction

from ctit_trial.history_guard import MAINTENANCE_ROLE, TRIGGER, history_tables
from enrollment.models import Site

pytestmark = pytest.mark.django_db
APP_ROLE = f"ctit_app_test_{os.getpid()}"  # per worker; created inside the test's transaction, so rolled back


@pytest.fixture
def app_role():
    """A plain (non-superuser) role with the privileges an application role has on every table."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    return APP_ROLE


def run_as(role: str, sql: str) -> None:
    """Run one statement as the role, in a savepoint (SET LOCAL ROLE ends with it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: TRUNCATE refuses those
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(sql)


@pytest.mark.postgres
def test_every_history_table_has_the_append_only_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s", [TRIGGER]
        )
        guarded = {row[0] for row in cursor.fetchall()}

    assert len(history_tables()) >= 35
    assert "ctit_trial_historicaluser" in guarded and "dosing_historicalsrcdecision_members_present" in guarded
    assert set(history_tables()) - guarded == set()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql", "operation"),
    [
        ("UPDATE enrollment_historicalsite SET name = 'Forged'", "UPDATE"),
        ("DELETE FROM enrollment_historicalsite", "DELETE"),
        ("TRUNCATE enrollment_historicalsite", "TRUNCATE"),
    ],
)
def test_the_application_role_cannot_change_history(site_a, app_role, sql, operation):
    with pytest.raises(ProgrammingError) as refused:
        run_as(app_role, sql)

    assert f"History is append-only: {operation} on enrollment_historicalsite is refused for role {app_role}." in str(
        refused.value
    )
    assert list(site_a.history.values_list("name", flat=True)) == ["Beijing"]


@pytest.mark.postgres
def test_the_application_role_still_writes_new_history(site_a, app_role):
    run_as(app_role, "UPDATE enrollment_site SET name = 'Renamed'")  # the data table itself is not guarded
    site = Site.objects.get(pk=site_a.pk)
    site._change_reason, site.name = "Renamed by the sponsor", "Beijing main campus"

    site.save()

    assert site.history.count() == 2


@pytest.mark.postgres
def test_a_member_of_the_maintenance_role_may_repair_history(site_a, app_role):
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {MAINTENANCE_ROLE} TO {app_role}")

    run_as(app_role, "UPDATE enrollment_historicalsite SET history_change_reason = 'Repaired by the DBA'")

    assert site_a.history.get().history_change_reason == "Repaired by the DBA"


def test_history_rows_keep_their_user_a_user_named_in_history_cannot_be_deleted():
    historical = [
        model
        for model in apps.get_models()
        if hasattr(model, "instance_type") and "history_user" in [field.name for field in model._meta.fields]
    ]

    on_delete = {
        model._meta.label: model._meta.get_field("history_user").remote_field.on_delete for model in historical
    }

    assert len(on_delete) >= 30
    assert set(on_delete.values()) == {models.PROTECT}
