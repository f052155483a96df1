"""The browser assets GX Data Docs load from CDNs, taken from pinned XStatic packages (PyPI, installed with the rest).

Nothing is fetched: the files sit in site-packages. `python -m flows.checks.docs_assets DIR` (`make docs-assets`)
copies them into DIR, and a run fills DIR itself when it is incomplete, then copies them into its site's
static/vendor/<name>/, where the templates in flows/data_docs_templates/ link them. What no XStatic package ships
(Vega, bootstrap-table, the date picker, the dark theme) is left out of the pages, which say so in one line.
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


def copy_site_assets(vendor: Path, static: Path) -> None:
    """Copy each package's files from the vendor folder (filled first when incomplete) to `static/vendor/<name>/`:
    without the version, so the templates name one path whatever the pin."""
    if not is_complete(vendor):
        copy_assets(vendor)
    for name in VENDORED:
        shutil.copytree(vendor / package_folder(name), static / "vendor" / name, dirs_exist_ok=True)


if __name__ == "__main__":
    destination = Path(sys.argv[1])
    copy_assets(destination)
    print(f"Data Docs assets in {destination}")
