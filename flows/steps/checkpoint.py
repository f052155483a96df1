"""All suites run by one GX Checkpoint on a SQL data source, whose UpdateDataDocsAction builds offline Data Docs.

Three GX 1.24 limitations are worked around here, each where it bites:
1. A Checkpoint runs all its validation definitions with one result_format, while a suite names its failing rows
   by its own table's key (unexpected_index_column_names): `PerSuiteFormatCheckpoint` gives each its own.
2. Checkpoint._sort_actions runs every UpdateDataDocsAction before any other action, and the validation results
   store keeps a JSON copy of each result taken when its suite ran, so an action placed before the docs cannot
   complete the results they render: `CompleteThenUpdateDataDocsAction` completes each result (all failing rows,
   their labels where GX's page shows them: flows/steps/gx_duckdb.py), stores it again, then builds the docs,
   once for all results (GX's action rebuilds the whole site once per result).
3. DefaultJinjaView searches a custom_views_directory after GX's own templates, so it can add templates but not
   replace one: `OfflinePageView` searches flows/data_docs_templates/ first, where each override says why it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from great_expectations.checkpoint import Checkpoint, UpdateDataDocsAction
from great_expectations.compatibility.pydantic import PrivateAttr
from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from flows.steps.docs_assets import MISSING_NOTE
from flows.steps.gx_duckdb import fetch_all_unexpected_rows, show_unexpected_rows

TEMPLATES = Path(__file__).resolve().parent.parent / "data_docs_templates"
SITE = "valley"
# name -> (asset table, GX ExpectationSuite, result_format), in the order the suites run
Suites = Mapping[str, tuple[str, Any, Any]]


class OfflinePageView(DefaultJinjaPageView):
    """GX's page view with our template overrides searched first (limitation 3)."""

    def __init__(self, custom_styles_directory: Any = None, custom_views_directory: Any = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.loader = ChoiceLoader([FileSystemLoader(TEMPLATES), self.env.loader])  # type: ignore[list-item]
        self.env.globals["offline_note"] = MISSING_NOTE


class PerSuiteFormatCheckpoint(Checkpoint):
    """A Checkpoint whose validation definitions each run with their own result_format (limitation 1)."""

    _formats: dict[str, Any] = PrivateAttr(default_factory=dict)

    def _run_validation_definitions(
        self, batch_parameters: Any, expectation_parameters: Any, result_format: Any, run_id: Any
    ) -> dict[Any, Any]:
        results = {}
        for definition in self.validation_definitions:
            result = definition.run(
                checkpoint_id=self.id,
                batch_parameters=batch_parameters,
                expectation_parameters=expectation_parameters,
                result_format=self._formats.get(definition.name, result_format),
                run_id=run_id,
            )
            results[self._build_result_key(definition, run_id, result.batch_id)] = result
        return results


class CompleteThenUpdateDataDocsAction(UpdateDataDocsAction):
    """Complete each result, store it again, then build the docs from the store (limitation 2)."""

    type: Literal["valley_complete_then_update_data_docs"] = "valley_complete_then_update_data_docs"  # type: ignore[assignment]
    _complete: Callable[[Any], None] = PrivateAttr(default=lambda result: None)
    _build: bool = PrivateAttr(default=True)  # False: complete the results, build no docs

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict[Any, Any]:
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        store = self._resolve_context().context.validation_results_store
        pages: list[Any] = []
        for key, result in checkpoint_result.run_results.items():
            self._complete(result)
            store.set(key, result)
            pages += [key, ExpectationSuiteIdentifier(name=result.suite_name)]
        # one build for every page: UpdateDataDocsAction.run builds the site (static files, index, fresh Jinja
        # environments) once per result, about 0.4 s a suite
        return self._build_data_docs(site_names=self.site_names, resource_identifiers=pages) if self._build else {}


def site_config(site: Path) -> dict[str, Any]:
    """A filesystem site at `site`: validation and suite pages through OfflinePageView, no profiling pages, no
    walkthrough pop-up. GX's own index is built too; flows/steps/docs.py replaces it by the run's landing page."""
    view = {"module_name": __name__, "class_name": OfflinePageView.__name__}
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
        "show_how_to_buttons": False,
        "site_section_builders": {
            "validations": {"view": view},
            "expectations": {"view": view},
            "profiling": "False",
        },
    }


def completer(source: Any, assets: Mapping[str, str], label: Any, row_counts: Mapping[str, int]) -> Any:
    """The completion each result gets before the docs render: every failing row of a query rule, fetched through
    GX's engine, and its label where GX's page lists unexpected values."""
    engine = source.get_execution_engine().engine

    def complete(result: Any) -> None:
        asset = assets[result.suite_name]
        fetch_all_unexpected_rows(engine, asset, result)
        show_unexpected_rows(result, label, row_counts.get(asset, 0))

    return complete


def run_checkpoint(
    source: Any,
    suites: Suites,
    site: Path | None,
    label: Callable[[dict[str, Any]], str],
    row_counts: Mapping[str, int],
    expectation_parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every suite once on its table of the SQL data source `source`, through one Checkpoint that builds Data
    Docs into `site` (None: no docs); returns GX's result per suite name, in the order of `suites`. `label(row)`
    names a failing row of a query rule, `row_counts` gives each asset table's rows (GX's "of N total rows")."""
    if not suites:  # GX refuses to run a Checkpoint without validation definitions
        return {}
    context = source.data_context
    if site is not None:
        context.add_data_docs_site(SITE, site_config(site))
    definitions = []
    for name, (asset, suite, _) in suites.items():
        batch = source.add_table_asset(name, table_name=asset).add_batch_definition_whole_table("all")
        definition = context.validation_definitions.add(_validation_definition(name, batch, context.suites.add(suite)))
        definitions.append(definition)
    action = CompleteThenUpdateDataDocsAction(name="data_docs", site_names=[SITE])
    action._complete = completer(source, {name: asset for name, (asset, _, _) in suites.items()}, label, row_counts)
    action._build = site is not None
    checkpoint = PerSuiteFormatCheckpoint(name="valley", validation_definitions=definitions, actions=[action])
    checkpoint._formats = {name: result_format for name, (_, _, result_format) in suites.items()}
    # run as built: the store returns a copy rebuilt from JSON, without the private attributes set above
    result = checkpoint.run(expectation_parameters=expectation_parameters)
    by_name = {outcome.suite_name: outcome for outcome in result.run_results.values()}
    return {name: by_name[suite.name] for name, (_, suite, _) in suites.items()}


def _validation_definition(name: str, batch: Any, suite: Any) -> Any:
    from great_expectations import ValidationDefinition

    return ValidationDefinition(name=name, data=batch, suite=suite)
