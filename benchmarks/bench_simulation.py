"""Time the operating-characteristics simulation of each escalation design.

Run from the repository root:

    .venv/bin/python benchmarks/bench_simulation.py [--trials 10000] [--seed 1] [--true-dlt 0.05,0.15,0.35]

It prints one line per design: the wall-clock seconds for the whole run, and the mean sample size as a check
that the run did real work. Options of each design come from seeds/protocol.yaml.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from dosing.rules.config import boin_options, escalation_options  # noqa: E402
from dosing.rules.simulate import simulate  # noqa: E402


def main() -> None:
    """Simulate each design and print the seconds it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--true-dlt", default="0.05,0.15,0.35")
    arguments = parser.parse_args()
    true_dlt = tuple(float(value) for value in arguments.true_dlt.split(","))
    for design, options in (("at3+3", escalation_options()), ("boin", boin_options())):
        started = time.perf_counter()
        result = simulate(design, true_dlt=true_dlt, trials=arguments.trials, seed=arguments.seed, options=options)
        seconds = time.perf_counter() - started
        print(
            f"{design:>6}: {arguments.trials} trials in {seconds:.2f} s "
            f"(mean sample size {result.mean_sample_size:.2f})"
        )


if __name__ == "__main__":
    main()
