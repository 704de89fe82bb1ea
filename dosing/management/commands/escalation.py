"""`manage.py escalation next "<path>"` and `manage.py escalation simulate`: the escalation engine from a shell.

Option defaults come from seeds/protocol.yaml. A malformed path, option or probability list exits with code 2.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from dosing.rules.boin import next_boin_decision
from dosing.rules.config import (
    DESIGNS,
    TITRATION_TRIGGERS,
    ConfigError,
    boin_options,
    configured_design,
    escalation_options,
)
from dosing.rules.decision import Decision
from dosing.rules.path import DosePathError
from dosing.rules.simulate import OperatingCharacteristics, simulate
from dosing.rules.three_plus_three import next_decision

USAGE_ERROR = 2
PROGRESS_MIN_TRIALS = 1000  # shorter runs finish before a progress line would help
PROGRESS_STEPS = 10  # a line on stderr every tenth of the run


class Command(BaseCommand):
    help = "The dose-escalation engine: the next decision for a dose path, or simulated operating characteristics."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, title="subcommands")
        next_parser = commands.add_parser("next", help='The next decision for a dose path, e.g. "1G 1NN 2NNN".')
        next_parser.add_argument("path", help="Dosed subjects in dosing order: <level><N|G|T|X|P…> tokens.")
        simulate_parser = commands.add_parser("simulate", help="Operating characteristics over simulated trials.")
        simulate_parser.add_argument(
            "--true-dlt", required=True, help="True DLT probability of each level, comma-separated: 0.05,0.15,0.35"
        )
        simulate_parser.add_argument("--trials", type=int, default=10_000, help="Trials to simulate (10000).")
        simulate_parser.add_argument("--seed", type=int, default=1, help="Random seed, for reproducible runs (1).")
        for subparser in (next_parser, simulate_parser):
            _add_design_options(subparser)

    def handle(self, *args, subcommand: str, **options):
        try:
            if subcommand == "next":
                self._next(options)
            else:
                self._simulate(options)
        except (DosePathError, ConfigError, ValueError) as error:
            raise CommandError(str(error), returncode=USAGE_ERROR) from error

    def _next(self, options: dict) -> None:
        design = options["design"] or configured_design()
        if design == "boin":
            decision = next_boin_decision(options["path"], boin_options())
        else:
            decision = next_decision(options["path"], _escalation_options(options))
        self.stdout.write(json.dumps(decision.to_dict()) if options["json"] else decision_text(decision))

    def _simulate(self, options: dict) -> None:
        design = options["design"] or configured_design()
        design_options = boin_options() if design == "boin" else _escalation_options(options)
        trials = options["trials"]
        show_progress = trials >= PROGRESS_MIN_TRIALS and sys.stderr.isatty()
        characteristics = simulate(
            design,
            true_dlt=parse_probabilities(options["true_dlt"]),
            trials=trials,
            seed=options["seed"],
            options=design_options,
            progress=ProgressLines(f"simulate {design}", trials) if show_progress else None,
        )
        payload = characteristics.to_dict()
        self.stdout.write(json.dumps(payload) if options["json"] else characteristics_text(characteristics))


class ProgressLines:
    """A `progress(n)` callback that prints "simulate boin: 1000/10000 trials" on stderr every tenth of the run."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.every = max(1, total // PROGRESS_STEPS)

    def __call__(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self.done // self.every > before // self.every or self.done == self.total:
            print(f"{self.label}: {self.done}/{self.total} trials", file=sys.stderr, flush=True)


def _add_design_options(parser) -> None:
    parser.add_argument("--json", action="store_true", help="Print exactly one JSON object.")
    parser.add_argument("--design", choices=DESIGNS, help="Escalation design (default: escalation.design).")
    parser.add_argument("--titration-trigger", choices=TITRATION_TRIGGERS, help="AT+3+3 titration trigger.")
    parser.add_argument("--mtd-requires", type=int, help="AT+3+3: evaluable subjects needed to declare an MTD.")
    parser.add_argument(
        "--no-confirm-top-dose",
        dest="confirm_top_dose",
        action="store_false",
        default=None,
        help="AT+3+3: declare the MAD at 0/3 on the top level instead of dosing 3 more.",
    )


def _escalation_options(options: dict):
    return escalation_options(
        titration_trigger=options["titration_trigger"],
        mtd_requires=options["mtd_requires"],
        confirm_top_dose=options["confirm_top_dose"],
    )


def parse_probabilities(text: str) -> tuple[float, ...]:
    """'0.05,0.15,0.35' as a tuple of floats; ValueError naming the bad entry."""
    values = []
    for entry in text.split(","):
        try:
            values.append(float(entry))
        except ValueError:
            raise ValueError(f'--true-dlt: "{entry.strip()}" is not a probability') from None
    return tuple(values)


def decision_text(decision: Decision) -> str:
    """A decision for people: the action line, then the reason."""
    if decision.subjects is not None:
        headline = f"{decision.action}: dose {decision.subjects} more at level {decision.dose_level}"
    elif decision.dose_level is not None:
        headline = f"{decision.action}: level {decision.dose_level}"
    else:
        headline = str(decision.action)
    return f"{headline}\n{decision.reason}"


def characteristics_text(characteristics: OperatingCharacteristics) -> str:
    """Operating characteristics as a small table."""
    lines = [
        f"{characteristics.design}: {characteristics.trials} simulated trials, seed {characteristics.seed}",
        f"{'level':>5} {'true DLT':>9} {'P(selected)':>12} {'mean subjects':>14} {'mean DLTs':>10}",
    ]
    for level in characteristics.levels:
        lines.append(
            f"{level.level:>5} {level.true_dlt:>9.3f} {level.p_selected:>12.4f} "
            f"{level.mean_subjects:>14.2f} {level.mean_dlts:>10.2f}"
        )
    lines += [
        f"P(stop, no tolerable dose): {characteristics.p_stop_no_tolerable_dose:.4f}",
        f"P(MTD not reached, MAD at the top level): {characteristics.p_mtd_not_reached:.4f}",
        f"mean sample size: {characteristics.mean_sample_size:.2f}",
    ]
    return "\n".join(lines)
