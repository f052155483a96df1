"""valley: figures from the Big Data Valley article as a validated data package and DuckDB warehouse."""
