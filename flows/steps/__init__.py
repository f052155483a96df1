"""Pure pipeline stages: no Prefect import anywhere below this package."""
