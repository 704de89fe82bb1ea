"""Fixtures of the deployment tests: the project's wheel, built once per test process."""

import pytest

from tests.deploy.wheel_build import wheel_build


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    return wheel_build(tmp_path_factory.mktemp("wheel"))
