"""Sources and their records: snapshots, evidence records, the number grammar, the period policy, extraction."""
