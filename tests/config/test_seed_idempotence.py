"""A second `manage.py seed` writes nothing: no row of any history-tracked (audited) model changes."""

import pytest
from django.apps import apps
from django.core.management import call_command
from simple_history.models import HistoricalChanges

pytestmark = pytest.mark.django_db


def history_counts() -> dict[str, int]:
    """The number of history rows of every audited model."""
    return {
        model._meta.label: model.objects.count() for model in apps.get_models() if issubclass(model, HistoricalChanges)
    }


def test_a_second_seed_writes_no_history_row():
    call_command("seed", verbosity=0)
    before = history_counts()

    call_command("seed", verbosity=0)

    assert history_counts() == before
    assert before["safety.HistoricalCtcaeTerm"] == 24  # written once, by the first seed


def test_a_second_demo_seed_writes_no_history_row(settings):
    settings.DEBUG = True
    call_command("seed", "--demo", verbosity=0)
    before = history_counts()

    call_command("seed", "--demo", verbosity=0)

    changed = {label: (before[label], count) for label, count in history_counts().items() if count != before[label]}
    assert changed == {}


def test_seed_reports_no_row_changed_the_second_time(capsys):
    call_command("seed", verbosity=0)

    call_command("seed")

    assert "rows changed: criteria 0, dose levels 0, visits 0, CTCAE 0" in capsys.readouterr().out
