"""The browser assets GX Data Docs load from CDNs, taken from pinned XStatic packages (PyPI, installed with the rest).

Nothing is fetched: the files sit in site-packages. `python -m flows.steps.docs_assets DIR` (`make docs-assets`)
copies them into DIR, and a run fills DIR itself when it is incomplete. What no XStatic package ships (Vega,
bootstrap-table, the date picker, the dark theme) is left out of the pages, which say so in one line.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import uuid
from pathlib import Path

# XStatic package (module under xstatic.pkg) -> the files and folders Data Docs use, below its data folder
VENDORED = {
    "bootstrap": ["css/bootstrap.min.css", "js/bootstrap.bundle.min.js"],
    "jquery": ["jquery.min.js"],
    "font_awesome": ["css/all.min.css", "webfonts", "LICENSE.txt"],  # the stylesheet loads ../webfonts/*
}
# CDN address in GX's HTML -> (XStatic package, path inside its data folder)
CDN_ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": ("bootstrap", "css/bootstrap.min.css"),
    # Bootstrap 4's bundle carries Popper, so GX's separate popper.js is dropped (BUNDLED)
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap",
        "js/bootstrap.bundle.min.js",
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": ("font_awesome", "css/all.min.css"),
}
BUNDLED = {"https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"}
# every other CDN asset (Vega, bootstrap-table, bootstrap-datepicker, bootstrap-dark) has no XStatic package
MISSING_NOTE = (
    "Offline copy: Bootstrap, jQuery and Font Awesome come from XStatic packages; Vega charts, table sorting and "
    "filtering, the date picker and the dark theme need assets no XStatic package ships and are left out."
)


def package_folder(name: str) -> str:
    """'font_awesome' -> 'font_awesome-6.2.1': the installed version is in the name, so a new pin is copied anew."""
    return f"{name}-{importlib.import_module(f'xstatic.pkg.{name}').VERSION}"


def package_data(name: str) -> Path:
    return Path(importlib.import_module(f"xstatic.pkg.{name}").BASE_DIR)


def local_path(url: str) -> str:
    """Where a CDN asset lives below the vendor folder."""
    name, inner = CDN_ASSETS[url]
    return f"{package_folder(name)}/{inner}"


def is_complete(vendor: Path) -> bool:
    return all((vendor / package_folder(name) / inner).exists() for name, files in VENDORED.items() for inner in files)


def copy_assets(vendor: Path) -> None:
    """Copy each package's files into `vendor/<name>-<version>/`, each folder renamed into place whole.

    Runs may fill the same folder at once: a folder another run renamed first is kept, ours discarded.
    """
    vendor.mkdir(parents=True, exist_ok=True)
    for name, files in VENDORED.items():
        target = vendor / package_folder(name)
        if all((target / inner).exists() for inner in files):
            continue
        scratch = vendor / f".{target.name}.{uuid.uuid4().hex}"
        for inner in files:
            source, destination = package_data(name) / inner, scratch / inner
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, destination)
            else:
                shutil.copyfile(source, destination)
        try:
            scratch.rename(target)
        except OSError:  # another run renamed its copy first, or a damaged copy is in the way: set it aside
            if not all((target / inner).exists() for inner in files):
                stale = vendor / f".{target.name}.{uuid.uuid4().hex}.old"
                target.rename(stale)
                scratch.rename(target)
                shutil.rmtree(stale, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    destination = Path(sys.argv[1])
    copy_assets(destination)
    print(f"Data Docs assets in {destination}")
