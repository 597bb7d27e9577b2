#!/usr/bin/env python3
"""Fetch pinned third-party assets and datasets from the npm registry and PyPI into the repository.

Run it only to add or upgrade a pinned item (`python scripts/vendor.py`); its output is committed, so the
portal never reaches a CDN or a registry at run time. npm verifies each tarball against the registry's
integrity hash; the versions here are the ones listed in README.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (npm package, version, {file in the tarball: destination under ROOT})
NPM = [
    ("htmx.org", "2.0.11", {
        "package/dist/htmx.min.js": "portal/static/vendor/htmx/htmx.min.js",
        "package/LICENSE": "portal/static/vendor/htmx/LICENSE",
    }),
    # images/ stays beside leaflet.css, whose url(images/...) references are relative.
    ("leaflet", "1.9.4", {
        f"package/dist/{name}": f"portal/static/vendor/leaflet/{name}"
        for name in ("leaflet.js", "leaflet.css") + tuple(
            f"images/{png}.png"
            for png in ("marker-icon", "marker-icon-2x", "marker-shadow", "layers", "layers-2x")
        )
    } | {"package/LICENSE": "portal/static/vendor/leaflet/LICENSE"}),
    # ECharts and its word cloud are not fetched here: the dashboard's echarts-dashboard.min.js is built from
    # their npm sources with only the series it draws, with their licence files (scripts/echarts/build.sh).
    ("axe-core", "4.14.1", {
        "package/axe.min.js": "tests/browser/vendor/axe-core/axe.min.js",
        "package/LICENSE": "tests/browser/vendor/axe-core/LICENSE",
    }),
    ("china-division", "2.7.0", {
        f"package/dist/{name}.json": f"portal/data/regions/china-division/{name}.json"
        for name in ("provinces", "cities", "areas", "streets")
    } | {"package/LICENSE": "portal/data/regions/china-division/LICENSE"}),
]

# (PyPI distribution, version, {file in the wheel: destination under ROOT})
PYPI = [
    ("cpca", "0.5.5", {
        "cpca/resources/adcodes.csv": "portal/data/regions/cpca/adcodes.csv",
        "cpca-0.5.5.dist-info/LICENSE": "portal/data/regions/cpca/LICENSE",
    }),
]


def _copy(read, files: dict[str, str]) -> None:
    for member, dest in files.items():
        target = ROOT / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read(member))
        print(f"  {dest}")


def fetch_npm(tmp: Path, name: str, version: str, files: dict[str, str]) -> None:
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", str(tmp)],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    with tarfile.open(tmp / out) as tar:
        _copy(lambda m: tar.extractfile(m).read(), files)


def fetch_pypi(tmp: Path, name: str, version: str, files: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(tmp), f"{name}=={version}"],
        check=True,
    )
    wheel = next(tmp.glob(f"{name}-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        _copy(zf.read, files)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        for name, version, files in NPM:
            print(f"npm {name}@{version}")
            fetch_npm(tmp, name, version, files)
        for name, version, files in PYPI:
            print(f"pypi {name}=={version}")
            fetch_pypi(tmp, name, version, files)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
