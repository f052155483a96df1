"""Every path the project reads or writes, derived from one root built from this file's location."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ProjectPaths:
    """The project's folders under one root; tests point the root at a copy in tmp_path."""

    root: Path = PROJECT_DIR

    @property
    def package_dir(self) -> Path:
        return self.root / "datapackage"

    @property
    def descriptor(self) -> Path:
        return self.package_dir / "datapackage.json"

    @property
    def schemas_dir(self) -> Path:
        return self.package_dir / "schemas"

    @property
    def sources_dir(self) -> Path:
        return self.package_dir / "sources"

    @property
    def data_dir(self) -> Path:
        return self.package_dir / "data"

    @property
    def expectations_dir(self) -> Path:
        return self.root / "expectations"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "valley.duckdb"

    @property
    def manifest(self) -> Path:
        """What the last publish wrote: its build keys, run, validation summary and every file's sha256."""
        return self.warehouse_dir / "publish.json"

    @property
    def journal(self) -> Path:
        """A publish in progress: the moves it commits to; present only while (or if killed while) switching."""
        return self.warehouse_dir / ".publish-journal.json"

    @property
    def sources_manifest(self) -> Path:
        """Beside the publish manifest: each published source's content key and where its kept rows are."""
        return self.warehouse_dir / "sources.json"

    @property
    def history(self) -> Path:
        """Validation history (runs, results), queried as `quality.*`."""
        return self.warehouse_dir / "quality.duckdb"

    @property
    def views_dir(self) -> Path:
        return self.warehouse_dir / "views"

    @property
    def queries_dir(self) -> Path:
        return self.warehouse_dir / "queries"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def kept_dir(self) -> Path:
        """Each source's extracted rows, one file a source, reused while its content key holds."""
        return self.build_dir / "kept"

    @property
    def kept_facts_dir(self) -> Path:
        """Each source's validation facts beside its kept rows (flows/checks/validate.py), reused while they hold."""
        return self.kept_dir / "facts"

    @property
    def snapshots_dir(self) -> Path:
        """Hard-linked copies of one published generation, taken by readers under the switch lock."""
        return self.build_dir / "snapshots"

    @property
    def data_docs_dir(self) -> Path:
        return self.build_dir / "data-docs"

    @property
    def vendor_dir(self) -> Path:
        """Browser assets for Data Docs, fetched by `make` (offline at run time)."""
        return PROJECT_DIR / "build" / "vendor"

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist"


DEFAULT_PATHS = ProjectPaths()
