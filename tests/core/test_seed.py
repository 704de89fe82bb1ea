"""`manage.py seed` loads the protocol configuration idempotently; --demo adds logins for each role."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from dosing.models import DoseLevel
from enrollment.models import Criterion, Protocol, Site, Subject
from safety.models import CtcaeTerm, VisitDefinition

pytestmark = pytest.mark.django_db


def test_seed_loads_the_protocol_configuration():
    call_command("seed", verbosity=0)

    protocol = Protocol.objects.get()
    assert (protocol.code, protocol.registry_id, protocol.planned_enrollment) == ("XJ-MK-002", "NCT07110090", 16)
    assert list(DoseLevel.objects.values_list("label", "viable_cells", "status")) == [
        ("L1", 100_000_000, "not_open"),
        ("L2", 300_000_000, "not_open"),
        ("L3", 600_000_000, "not_open"),
    ]
    assert list(VisitDefinition.objects.values_list("code", flat=True)) == [
        "D0", "D2", "D3", "D7", "D14", "D28", "D30"
    ]  # fmt: skip
    assert Criterion.objects.filter(kind="inclusion").count() == 6
    assert Criterion.objects.filter(kind="exclusion").count() == 21
    assert CtcaeTerm.objects.filter(meddra_code="10035528").get().term == "Platelet count decreased"
    assert protocol.configuration["escalation"]["options"]["mtd_requires"] == 6
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "Data manager", "Investigator", "Monitor", "SRC member", "Sponsor safety", "Study coordinator"
    ]  # fmt: skip


def test_seed_twice_changes_nothing_the_second_time(settings):
    settings.DEBUG = True
    call_command("seed", "--demo", verbosity=0)
    history_rows = Protocol.history.count() + DoseLevel.history.count() + Site.history.count()

    call_command("seed", "--demo", verbosity=0)

    assert Protocol.history.count() + DoseLevel.history.count() + Site.history.count() == history_rows
    assert Subject.objects.filter(site__code="BJ01").count() == 7  # the demo trial (tests/core/test_seed_demo.py)
    assert Subject.objects.filter(site__code="DEMO2").count() == 1


def test_demo_refused_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="Refusing --demo with DJANGO_DEBUG off"):
        call_command("seed", "--demo", verbosity=0)

    assert not Site.objects.exists()


@pytest.mark.parametrize("flag", ["--allow-demo", "--force", "--no-input"])
def test_demo_refused_with_debug_off_whatever_flag_is_given(settings, flag):
    settings.DEBUG = False

    with pytest.raises(CommandError):
        call_command("seed", "--demo", flag, verbosity=0)

    assert not Site.objects.exists()
    assert not get_user_model().objects.filter(username__in=["admin", "coordinator"]).exists()


def test_demo_has_one_login_per_role(client, settings):
    settings.DEBUG = True
    call_command("seed", "--demo", verbosity=0)

    for username in ["coordinator", "investigator", "src", "datamanager", "monitor", "sponsor", "coordinator2"]:
        assert client.login(username=username, password="demo-pass-2026"), username
    assert client.login(username="admin", password="admin-pass-2026")
