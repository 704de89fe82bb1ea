"""The wheel carries seeds/ and templates/ inside ctit_trial/, and every package of the source tree."""

from tests.deploy.wheel_build import ROOT, checkout_files, wheel_names

APPS = ("ctit_trial", "enrollment", "dosing", "safety")


def test_the_wheel_carries_every_seed_file(wheel):
    seeds = sorted(path.name for path in (ROOT / "seeds").glob("*.yaml"))

    assert seeds == ["criteria.yaml", "ctcae_v5.yaml", "demo.yaml", "dlt_rules.yaml", "protocol.yaml"]
    assert sorted(name for name in wheel_names(wheel) if name.startswith("ctit_trial/seeds/")) == [
        f"ctit_trial/seeds/{name}" for name in seeds
    ]


def test_the_wheel_carries_every_template(wheel):
    templates = {name for name in checkout_files() if name.startswith("templates/") and not name.endswith(".gitkeep")}

    assert len(templates) >= 35
    assert sorted(f"ctit_trial/{name}" for name in templates) == sorted(
        name for name in wheel_names(wheel) if name.startswith("ctit_trial/templates/")
    )


def test_the_wheel_carries_every_package_of_the_source_tree(wheel):
    """A new subpackage must be added to pyproject's [tool.setuptools] packages."""
    packages = {name for name in checkout_files() if name.endswith("/__init__.py") and name.startswith(APPS)}

    assert sorted(packages - wheel_names(wheel)) == []


def test_the_wheel_holds_the_four_apps_and_nothing_else_of_the_checkout(wheel):
    top_level = {name.split("/")[0] for name in wheel_names(wheel)}

    assert sorted(top_level) == sorted([*APPS, "ctit_trial-0.1.0.dist-info"])  # no tests/, manage.py, seeds/ at the top
