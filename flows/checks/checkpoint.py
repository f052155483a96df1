"""All suites run by one GX Checkpoint on a SQL data source, whose UpdateDataDocsAction builds offline Data Docs.

Two GX 1.24 limitations are worked around here, each where it bites:
1. Checkpoint._sort_actions runs every UpdateDataDocsAction before any other action, and the validation results
   store keeps a JSON copy of each result taken when its suite ran, so an action placed before the docs cannot
   complete the results they render: `CompleteThenUpdateDataDocsAction` completes each result (the caller's
   `complete`: failing expectations validated again listing every failing row, their labels where GX's page shows
   them), stores it again, then builds the docs, once for all results (GX's action rebuilds the site per result).
2. DefaultJinjaView searches a custom_views_directory after GX's own templates, so it can add templates but not
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

from flows.checks.docs_assets import MISSING_NOTE

TEMPLATES = Path(__file__).resolve().parent.parent / "data_docs_templates"
SITE = "valley"
# name -> (asset table, GX ExpectationSuite, result_format), in the order the suites run
Suites = Mapping[str, tuple[str, Any, Any]]


class OfflinePageView(DefaultJinjaPageView):
    """GX's page view with our template overrides searched first (limitation 2)."""

    def __init__(self, custom_styles_directory: Any = None, custom_views_directory: Any = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.loader = ChoiceLoader([FileSystemLoader(TEMPLATES), self.env.loader])  # type: ignore[list-item]
        self.env.globals["offline_note"] = MISSING_NOTE


class CompleteThenUpdateDataDocsAction(UpdateDataDocsAction):
    """Complete each result, store it again, then build the docs from the store (limitation 1)."""

    type: Literal["valley_complete_then_update_data_docs"] = "valley_complete_then_update_data_docs"  # type: ignore[assignment]
    _complete: Callable[[Any], None] = PrivateAttr(default=lambda result: None)  # the caller's, per failing result
    _build: bool = PrivateAttr(default=True)  # False: complete the results, build no docs

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict[Any, Any]:
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        store = self._resolve_context().context.validation_results_store
        pages: list[Any] = []
        for key, result in checkpoint_result.run_results.items():
            if not result.success:  # a passing result has nothing to complete: GX's stored copy stands
                self._complete(result)
                store.set(key, result)
            pages += [key, ExpectationSuiteIdentifier(name=result.suite_name)]
        # one build for every page: UpdateDataDocsAction.run builds the site (static files, index, fresh Jinja
        # environments) once per result, about 0.4 s a suite
        return self._build_data_docs(site_names=self.site_names, resource_identifiers=pages) if self._build else {}


def site_config(site: Path) -> dict[str, Any]:
    """A filesystem site at `site`: validation and suite pages through OfflinePageView, no profiling pages, no
    walkthrough pop-up. GX's own index is built too; flows/report/docs.py replaces it by the run's landing page."""
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


def run_checkpoint(
    source: Any,
    suites: Suites,
    site: Path | None,
    complete: Callable[[str, Any], None],
    result_format: Any,
    expectation_parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every suite once on its table of the SQL data source `source` with `result_format`, through one
    Checkpoint whose action calls `complete(name, result)` for each suite and then builds Data Docs into `site`
    (None: no docs); returns GX's result per suite name, in the order of `suites`."""
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
    names = {suite.name: name for name, (_, suite, _) in suites.items()}
    action = CompleteThenUpdateDataDocsAction(name="data_docs", site_names=[SITE])
    action._complete = lambda result: complete(names[result.suite_name], result)
    action._build = site is not None
    checkpoint = Checkpoint(
        name="valley", validation_definitions=definitions, actions=[action], result_format=result_format
    )
    # run as built: the store returns a copy rebuilt from JSON, without the private attributes set above
    result = checkpoint.run(expectation_parameters=expectation_parameters)
    by_name = {outcome.suite_name: outcome for outcome in result.run_results.values()}
    return {name: by_name[suite.name] for name, (_, suite, _) in suites.items()}


def _validation_definition(name: str, batch: Any, suite: Any) -> Any:
    from great_expectations import ValidationDefinition

    return ValidationDefinition(name=name, data=batch, suite=suite)
