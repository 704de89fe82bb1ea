"""`manage.py escalation next|simulate`: one JSON object with --json, exit code 2 on a malformed path."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

MANAGE_PY = Path(__file__).resolve().parents[2] / "manage.py"


def escalation(*args: str) -> str:
    out = StringIO()
    call_command("escalation", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("next", ""), {"action": "enroll", "dose_level": 1, "subjects": 1}),
        (("next", "1P"), {"action": "hold", "dose_level": None, "subjects": None}),
        (("next", "1N"), {"action": "escalate", "dose_level": 2, "subjects": 3}),
        (("next", "1T"), {"action": "enroll", "dose_level": 1, "subjects": 2}),
        (("next", "1N 2NNN"), {"action": "escalate", "dose_level": 3, "subjects": 3}),
        (("next", "1G", "--titration-trigger", "dlt_only"), {"action": "escalate", "dose_level": 2, "subjects": 3}),
        (("next", "1G", "--titration-trigger", "add_one"), {"action": "enroll", "dose_level": 1, "subjects": 1}),
        (("next", "1N 2NNN 3TT", "--mtd-requires", "9"), {"action": "enroll", "dose_level": 2, "subjects": 6}),
        (("next", "1N 2NNN 3NNN"), {"action": "enroll", "dose_level": 3, "subjects": 3}),
        (
            ("next", "1N 2NNN 3NNN", "--no-confirm-top-dose"),
            {"action": "declare_mad", "dose_level": 3, "subjects": None},
        ),
        (("next", "1NNN", "--design", "boin"), {"action": "escalate", "dose_level": 2, "subjects": 3}),
        (("next", "1NNN 2TTT", "--design", "boin"), {"action": "enroll", "dose_level": 1, "subjects": 3}),
    ],
)
def test_next_json(args, expected):
    decision = json.loads(escalation(*args, "--json"))

    assert {key: decision[key] for key in ("action", "dose_level", "subjects")} == expected
    assert list(decision) == ["action", "dose_level", "subjects", "reason"]


def test_next_json_reason():
    assert json.loads(escalation("next", "1N 2NNT", "--json")) == {
        "action": "enroll",
        "dose_level": 2,
        "subjects": 3,
        "reason": "1 DLT in 3 evaluable subjects at level 2: expand to 6",
    }


def test_next_without_json_prints_the_decision_and_reason():
    assert escalation("next", "1N 2NNT") == (
        "enroll: dose 3 more at level 2\n1 DLT in 3 evaluable subjects at level 2: expand to 6\n"
    )
    assert escalation("next", "1N 2NNN 3TT 2NNN").startswith("declare_mtd: level 2\n")
    assert escalation("next", "1TT").startswith("stop\n")


@pytest.mark.parametrize(
    ("path", "token"),
    [("1N 2NQN", "2NQN"), ("1N 4NNN", "4NNN"), ("0N", "0N"), ("1N 2", "2"), ("1N NN", "NN")],
)
def test_malformed_path_is_a_usage_error_naming_the_token(path, token):
    with pytest.raises(CommandError) as raised:
        escalation("next", path, "--json")
    assert raised.value.returncode == 2
    assert f'"{token}"' in str(raised.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("next", "1N", "--mtd-requires", "2"), "mtd_requires must be a whole number ≥ 3"),
        (("simulate", "--true-dlt", "0.1,x,0.3"), '--true-dlt: "x" is not a probability'),
        (("simulate", "--true-dlt", "0.1,0.3"), "Expected 3 true DLT probabilities (one per level), got 2"),
    ],
)
def test_bad_options_are_usage_errors(args, message):
    with pytest.raises(CommandError) as raised:
        escalation(*args)
    assert (raised.value.returncode, str(raised.value)) == (2, message)


@pytest.mark.parametrize("design", ["at3+3", "boin"])
def test_simulate_json_is_reproducible(design):
    args = ("simulate", "--design", design, "--true-dlt", "0.05,0.15,0.35", "--trials", "300", "--seed", "3", "--json")

    first, again = json.loads(escalation(*args)), json.loads(escalation(*args))

    assert first == again
    assert (first["design"], first["trials"], first["seed"]) == (design, 300, 3)
    assert [level["true_dlt"] for level in first["levels"]] == [0.05, 0.15, 0.35]


def test_simulate_table():
    text = escalation("simulate", "--true-dlt", "0,0,0", "--trials", "20", "--titration-trigger", "dlt_only")

    assert text.splitlines() == [
        "at3+3: 20 simulated trials, seed 1",
        "level  true DLT  P(selected)  mean subjects  mean DLTs",
        "    1     0.000       0.0000           1.00       0.00",
        "    2     0.000       0.0000           3.00       0.00",
        "    3     0.000       1.0000           6.00       0.00",
        "P(stop, no tolerable dose): 0.0000",
        "P(MTD not reached, MAD at the top level): 1.0000",
        "mean sample size: 10.00",
    ]


def run_manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE_PY), "escalation", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=MANAGE_PY.parent,
        timeout=120,
    )


def test_command_line_prints_exactly_one_json_object():
    completed = run_manage("next", "1N 2NNN", "--json")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["action"] == "escalate"
    assert completed.stdout.count("\n") == 1


def test_command_line_malformed_path_exits_2_naming_the_token_on_stderr():
    completed = run_manage("next", "1N 2NZN", "--json")

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert 'Token "2NZN" has the unknown outcome letter "Z"' in completed.stderr


def test_command_line_simulate_keeps_progress_off_stdout():
    completed = run_manage("simulate", "--true-dlt", "0.05,0.15,0.35", "--trials", "1500", "--json")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["trials"] == 1500
