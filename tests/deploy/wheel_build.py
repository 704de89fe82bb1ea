"""Building the project's wheel the way the Dockerfile does, from a copy of the checkout (the tree is left clean)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def checkout_files() -> list[str]:
    """Tracked and new (not ignored) files of the checkout: what a clone with the work in progress would hold."""
    listed = subprocess.run(  # noqa: S603 — fixed arguments
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def wheel_build(workdir: Path) -> Path:
    """The wheel of the project, built without build isolation by the locked setuptools."""
    source, out = workdir / "source", workdir / "dist"
    for name in checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run(  # noqa: S603 — fixed arguments
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("ctit_trial-*.whl")
    return wheel


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())
