"""Study numbers S-<site>-<nnn> are allocated without gaps or duplicates, also under concurrency."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from enrollment import services
from enrollment.models import Subject
from enrollment.roles import STUDY_COORDINATOR
from tests.factories import make_site, make_staff_user


@pytest.mark.django_db
def test_numbers_are_per_site_and_consecutive(roles):
    beijing, shanghai = make_site(code="BJ01"), make_site(code="SH02")
    user = make_staff_user(role_key=STUDY_COORDINATOR, sites=[beijing, shanghai])

    numbers = [services.subject_register(actor=user, site=site).study_number for site in (beijing, shanghai, beijing)]

    assert numbers == ["S-BJ01-001", "S-SH02-001", "S-BJ01-002"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_consecutive_numbers(roles):
    site = make_site(code="BJ01")
    user = make_staff_user(role_key=STUDY_COORDINATOR, sites=[site])
    workers = 12
    barrier = Barrier(workers)

    def register(_):
        barrier.wait()
        try:
            return services.subject_register(actor=user, site=site).study_number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        numbers = list(pool.map(register, range(workers)))

    assert sorted(numbers) == [f"S-BJ01-{n:03d}" for n in range(1, workers + 1)]
    assert Subject.objects.count() == workers
