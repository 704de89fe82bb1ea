"""The system check that the database copy of the protocol matches seeds/ (ctit_trial.W002/W003/E002)."""

import pytest
from django.core.management import call_command

from ctit_trial.checks import protocol_matches_seeds_check
from enrollment.models import Protocol
from safety.models import CtcaeTerm, VisitDefinition

pytestmark = pytest.mark.django_db


def run_check():
    return protocol_matches_seeds_check(None, databases=["default"])


def test_an_unseeded_database_is_reported_with_the_fix():
    [warning] = run_check()

    assert (warning.id, warning.msg) == ("ctit_trial.W002", "The protocol is not seeded.")
    assert "python manage.py seed" in warning.hint


def test_the_check_passes_after_seed():
    call_command("seed", verbosity=0)

    assert run_check() == []


def test_a_changed_value_is_named_with_both_values():
    # given a seeded protocol whose database copy was changed behind the seed's back
    call_command("seed", verbosity=0)
    protocol = Protocol.objects.get()
    protocol.configuration["scheduling"]["sentinel_days"] = 21
    Protocol.objects.filter(pk=protocol.pk).update(configuration=protocol.configuration)
    VisitDefinition.objects.filter(code="D7").update(window_after=2)

    # when
    [warning] = run_check()

    # then
    assert warning.id == "ctit_trial.W003"
    assert warning.msg == (
        "The database copy of the protocol differs from seeds/: "
        "protocol.configuration.scheduling.sentinel_days (database 21, seeds 14); "
        "visits.D7.window_after (database 2, seeds 1)."
    )
    assert warning.hint.startswith("Run `python manage.py seed`")


def test_a_changed_ctcae_term_and_a_missing_row_are_named():
    call_command("seed", verbosity=0)
    fever = CtcaeTerm.objects.get(code="fever")
    fever.specification["grades"]["1"] = "changed"
    CtcaeTerm.objects.filter(pk=fever.pk).update(specification=fever.specification)
    CtcaeTerm.objects.filter(code="hematuria").delete()

    [warning] = run_check()

    assert 'ctcae.fever.specification.grades.1 (database "changed", seeds "38.0 - 39.0 degrees C' in warning.msg
    assert "ctcae.hematuria (missing in the database)" in warning.msg


def test_seed_makes_the_check_pass_again():
    call_command("seed", verbosity=0)
    VisitDefinition.objects.filter(code="D7").update(window_after=2)
    assert run_check()

    call_command("seed", verbosity=0)

    assert run_check() == []
    assert VisitDefinition.objects.get(code="D7").window_after == 1


def test_an_invalid_database_copy_is_an_error():
    call_command("seed", verbosity=0)
    protocol = Protocol.objects.get()
    protocol.configuration["scheduling"]["sentinel_days"] = "fourteen"
    Protocol.objects.filter(pk=protocol.pk).update(configuration=protocol.configuration)

    [error] = run_check()

    assert error.id == "ctit_trial.E002"
    assert error.msg == (
        "the database copy (Protocol.configuration): scheduling.sentinel_days: "
        'must be a whole number ≥ 1, got "fourteen"'
    )


def test_the_check_runs_only_when_a_database_is_named():
    assert protocol_matches_seeds_check(None) == []
