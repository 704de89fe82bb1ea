"""Every GET of the API at 100 and at 10,000 subjects: queries (they must not grow) and p50/p95 under gunicorn.

Run from the repository root against a throwaway PostgreSQL database (the script creates the schema and fills it):

    createdb -h 127.0.0.1 -U postgres ctit_bench_api
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctit_bench_api .venv/bin/python benchmarks/bench_api.py
    dropdb -h 127.0.0.1 -U postgres ctit_bench_api

The trial (benchmarks/bench_world.py, bulk inserts): 20 sites, 88 % of the subjects dosed (10 visits, 11 lab
results and 2 AEs each, one in 25 a DLT candidate), 3 % enrolled with an infusion plan around today, the rest in
screening. Each GET of the OpenAPI schema is requested as a monitor (all sites) and as the investigator of site S00,
first at `--small` subjects, then after the trial grew to `--subjects`: queries through Django's test client, then
`--requests` timed requests through gunicorn (2 workers), beside a bare DRF endpoint (token authentication, no
reads) measured in the same run. Results: var/bench/api-<subjects>.json and a table; the exit status is 1 when a
query count grew.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # run as a script from anywhere

VIEWERS = ("monitor", "investigator")
BARE = "/bench/bare/"
PORT = 8765


def configure(database_url: str | None) -> None:
    """Point Django at the benchmark database (PostgreSQL only) before it loads its settings."""
    if not database_url or not database_url.startswith("postgres"):
        sys.exit("Set BENCH_DATABASE_URL=postgres://… (a throwaway database: the benchmark fills it).")
    os.environ.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL="memory://",
        DJANGO_SETTINGS_MODULE="bench_settings",
        DJANGO_ALLOW_DEV_SECRET_KEY="1",  # noqa: S106 (the published development key: a throwaway database)
        CTIT_ENV_FILE="",
    )
    import django

    django.setup()


def get_paths() -> list[str]:
    """The GET operations of the OpenAPI schema (drf-spectacular, as `manage.py spectacular` writes it)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [path for path, operations in schema["paths"].items() if "get" in operations]


def url_of(path: str, ids: dict[str, int | str]) -> str:
    """The schema path with the benchmark's records of site S00 filled in."""
    subject = ids["planned_subject"] if path.endswith("/dosing/checklist/") else ids["subject"]
    for collection in ("adverse-events", "eligibility-evaluations", "screenings", "src-decisions", "visits"):
        path = path.replace(f"/{collection}/{{id}}/", f"/{collection}/{ids[collection]}/")
    path = path.replace("{code}", str(ids["site"])).replace("{subject_pk}", str(subject)).replace("{id}", str(subject))
    is_list = path.count("/") == 4 and not path.rstrip("/").split("/")[-1].isdigit()
    return path + ("?page_size=100" if is_list else "")


def count_queries(paths: list[str], ids, tokens: dict[str, str]) -> dict[str, dict[str, list[int]]]:
    """path -> viewer -> [status, queries, response bytes] through Django's test client."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    counts: dict[str, dict[str, list[int]]] = {}
    for viewer in VIEWERS:  # a first request fills the process's caches (protocol, configuration): not counted
        APIClient(HTTP_AUTHORIZATION=f"Token {tokens[viewer]}").get("/api/v1/escalation/status/", secure=True)
    for path in [*paths, BARE]:
        for viewer in VIEWERS:
            client = APIClient(HTTP_AUTHORIZATION=f"Token {tokens[viewer]}")
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url_of(path, ids), secure=True)
            counts.setdefault(path, {})[viewer] = [response.status_code, len(queries), len(response.content)]
    return counts


def start_gunicorn(database_url: str) -> subprocess.Popen:
    """gunicorn with two sync workers on the benchmark database, DEBUG off, throttling out of the way."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "API_THROTTLE_USER": "1000000/minute",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "ctit_trial.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", "2"]
    server = subprocess.Popen(command, env=environment, cwd=ROOT, stderr=subprocess.DEVNULL)  # noqa: S603
    import requests

    for _ in range(100):
        if server.poll() is not None:
            sys.exit(f"gunicorn exited (is port {PORT} taken by another server?)")
        try:
            requests.get(f"http://127.0.0.1:{PORT}/livez", timeout=5)
            return server
        except requests.RequestException:
            time.sleep(0.5)
    server.terminate()
    sys.exit("gunicorn did not start")


def time_requests(url: str, token: str, *, requests_count: int) -> dict[str, float]:
    """p50/p95 in ms over `requests_count` requests by two concurrent clients (after two warm-ups), and requests/s."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"

    def one(_) -> float:
        started = time.perf_counter()
        session.get(f"http://127.0.0.1:{PORT}{url}", timeout=120)  # a refusal (a monitor reading identities) counts too
        return (time.perf_counter() - started) * 1000

    for _ in range(2):
        one(None)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        durations = sorted(pool.map(one, range(requests_count)))
    wall = time.perf_counter() - started
    return {
        "p50_ms": round(statistics.median(durations), 1),
        "p95_ms": round(durations[max(0, int(len(durations) * 0.95) - 1)], 1),
        "per_second": round(requests_count / wall, 1),
    }


def timings(paths: list[str], ids, tokens, *, database_url: str, requests_count: int) -> dict:
    """path -> viewer -> p50/p95/throughput under gunicorn."""
    server = start_gunicorn(database_url)
    try:
        return {
            path: {
                viewer: time_requests(url_of(path, ids), tokens[viewer], requests_count=requests_count)
                for viewer in VIEWERS
            }
            for path in [BARE, *paths]
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def report(results: dict) -> bool:
    """Print the table; True when every read's query count at the large size equals the small size's."""
    small, large, timed = results["queries"]["small"], results["queries"]["large"], results["timings"]
    bare = timed[BARE]
    print(f"\n{'GET':<48} {'viewer':<12} {'queries':>9} {'KB':>7} {'p50 ms':>8} {'p95 ms':>8} {'rps':>7} {'% bare':>7}")
    grew = False
    for path in [BARE, *results["paths"]]:
        for viewer in VIEWERS:
            before, after, time_ = small[path][viewer][1], large[path][viewer][1], timed[path][viewer]
            grew |= after != before
            share = 100 * time_["per_second"] / bare[viewer]["per_second"]
            flag = "" if after == before else "  GREW"
            print(
                f"{path:<48} {viewer:<12} {before:>4}→{after:<4} {large[path][viewer][2] / 1024:>7.1f} "
                f"{time_['p50_ms']:>8.1f} {time_['p95_ms']:>8.1f} {time_['per_second']:>7.1f} {share:>6.0f}%{flag}"
            )
    return not grew


def main() -> None:
    """Build the small trial, count; grow it, count and time; write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--time-small", action="store_true", help="also time the requests at the small size")
    arguments = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL")
    configure(database_url)
    import bench_world

    started = time.perf_counter()
    world = bench_world.build(arguments.small)
    print(f"set-up: {arguments.small} subjects in {time.perf_counter() - started:.1f} s", flush=True)
    paths = get_paths()
    results = {"paths": paths, "measured_at": datetime.now(UTC).isoformat(), "queries": {}, "timings_small": None}
    results["queries"]["small"] = count_queries(paths, world.ids, world.tokens)
    if arguments.time_small:
        results["timings_small"] = timings(
            paths, world.ids, world.tokens, database_url=database_url, requests_count=arguments.requests
        )
    started = time.perf_counter()
    sizes = bench_world.grow(world, arguments.subjects)
    print(f"grown to {sizes} in {time.perf_counter() - started:.1f} s", flush=True)
    results["sizes"] = sizes
    results["queries"]["large"] = count_queries(paths, world.ids, world.tokens)
    results["timings"] = timings(
        paths, world.ids, world.tokens, database_url=database_url, requests_count=arguments.requests
    )
    constant = report(results)
    output = ROOT / "var" / "bench" / f"api-{arguments.subjects}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({**results, "queries_constant": constant}, indent=1))
    print(f"\nwritten: {output.relative_to(ROOT)}; query counts {'constant' if constant else 'GREW: failure'}")
    sys.exit(0 if constant else 1)


if __name__ == "__main__":
    main()
