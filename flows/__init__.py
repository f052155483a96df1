"""valley: figures from news texts as a validated data package and DuckDB warehouse.

The stage packages below run in pipeline order, and none imports Prefect (that stays in `flows/*.py`):
a stage imports only itself and the stages before it (tests/test_layout.py holds them to it).
"""

STAGES = ("core", "sources", "drafting", "package", "checks", "report", "publish", "operate")
