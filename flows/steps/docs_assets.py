"""The browser assets GX Data Docs load from CDNs, pinned and fetched once from the npm registry at set-up.

`python -m flows.steps.docs_assets DIR` (run by `make`) unpacks them into DIR; Data Docs then link to
local copies, so the pages read offline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# CDN address in GX's HTML -> (npm package@version, path inside the package)
CDN_ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap@4.3.1",
        "dist/css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap@4.3.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js@1.12.9",
        "dist/umd/popper.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega@5.33.1", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite@5.23.0", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed@6.29.0", "build/vega-embed.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free@6.6.0",
        "css/all.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark@1.1.0",
        "dist/css/bootstrap-prefers-dark.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker@1.9.0",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker@1.9.0",
        "dist/js/bootstrap-datepicker.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
}
# folders a stylesheet refers to (font files) that must come along
EXTRA_FOLDERS = {"@fortawesome/fontawesome-free@6.6.0": ["webfonts"]}


def package_folder(spec: str) -> str:
    """'@fortawesome/fontawesome-free@6.6.0' -> 'fortawesome-fontawesome-free-6.6.0'."""
    name, version = spec.rsplit("@", 1)
    return f"{name.lstrip('@').replace('/', '-')}-{version}"


def local_path(url: str) -> str:
    """Where a CDN asset lives below the vendor folder."""
    spec, inner = CDN_ASSETS[url]
    return f"{package_folder(spec)}/{inner}"


def is_complete(vendor: Path) -> bool:
    return all((vendor / local_path(url)).is_file() for url in CDN_ASSETS)


def fetch_assets(vendor: Path) -> None:
    """Unpack every pinned package's needed files into `vendor` (npm verifies each tarball's integrity)."""
    specs = sorted({spec for spec, _ in CDN_ASSETS.values()})
    with tempfile.TemporaryDirectory() as scratch:
        for spec in specs:
            subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", scratch], check=True,
                           capture_output=True, text=True)  # fmt: skip
        for spec in specs:
            wanted = [inner for s, inner in CDN_ASSETS.values() if s == spec]
            folders = EXTRA_FOLDERS.get(spec, [])
            tarball = Path(scratch) / f"{package_folder(spec)}.tgz"  # npm pack's own naming
            target = vendor / package_folder(spec)
            with tarfile.open(tarball) as archive:
                for member in archive.getmembers():
                    inner = member.name.removeprefix("package/")
                    if member.isfile() and (inner in wanted or any(inner.startswith(f + "/") for f in folders)):
                        destination = target / inner
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        with archive.extractfile(member) as source, destination.open("wb") as out:  # type: ignore[union-attr]
                            shutil.copyfileobj(source, out)


if __name__ == "__main__":
    destination = Path(sys.argv[1])
    if not is_complete(destination):
        fetch_assets(destination)
    print(f"Data Docs assets in {destination}")
