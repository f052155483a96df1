"""What the checks found: fingerprints and accepted findings, reports and their history, Data Docs."""
