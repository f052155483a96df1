"""Operating the project: a local Prefect server, read-only queries, the deployments' build step."""
