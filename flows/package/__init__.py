"""The package a run stages: CSVs and descriptor with hashes, content keys, the DuckDB DDL from the Table Schemas."""
