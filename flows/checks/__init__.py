"""Every check on a staged package: frictionless, the GX suites and rules on DuckDB, the facts they need, locating."""
