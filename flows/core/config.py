"""Settings people may change, read from the [tool.valley] section of pyproject.toml; defaults otherwise."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "max_age_hours": 48.0,
    # `valley serve` (UTC): the ETL daily at midnight, the re-validation hourly at half past, clear of the ETL
    "etl_cron": "0 0 * * *",
    "validate_cron": "30 * * * *",
    # where `valley serve` and `make server` send alerts (a webhook URL); empty: alerts off. The environment
    # variable VALLEY_ALERT_WEBHOOK wins over it
    "alert_webhook": "",
    # `valley publish`: a folder (relative to the project) or any fsspec URL (s3://bucket/valley, ...)
    "publish_to": "dist/public",
}


def load_config(root: Path) -> dict[str, Any]:
    """The project's settings: [tool.valley] over the defaults; unknown keys are refused."""
    from flows.core.errors import ValleyError

    path = root / "pyproject.toml"
    section = (
        tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("valley", {}) if path.is_file() else {}
    )
    unknown = sorted(set(section) - set(DEFAULTS))
    if unknown:
        raise ValleyError(f"{path}: unknown settings in [tool.valley]: {unknown}; known: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **section}
