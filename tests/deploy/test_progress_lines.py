"""Progress as plain printed lines (tqdm is gone): the seed command's steps and a long simulation's tenths."""

from io import StringIO

import pytest
from django.core.management import call_command

from dosing.management.commands.escalation import ProgressLines


@pytest.mark.django_db
def test_seed_prints_one_numbered_line_per_step():
    out = StringIO()

    call_command("seed", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "seed 1/2 roles and permissions",
        "seed 2/2 protocol configuration",
    ]


def test_a_long_simulation_prints_a_line_every_tenth(capsys):
    progress = ProgressLines("simulate boin", 1000)

    for _ in range(1000):
        progress(1)

    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"simulate boin: {done}/1000 trials" for done in range(100, 1001, 100)]
