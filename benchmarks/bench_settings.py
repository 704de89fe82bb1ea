"""The project's settings with the benchmark's URLs: the API plus a bare DRF endpoint to measure it against."""

from ctit_trial.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
