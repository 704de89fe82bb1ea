"""Where the project's data folders are: inside the installed package (the wheel), or in the source checkout."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """ctit_trial/<name> as the wheel installs seeds/ and templates/ (pyproject), else the checkout's <name>/."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name
