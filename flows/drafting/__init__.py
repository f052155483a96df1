"""Drafting a new source: a saved page or text as a snapshot, a record proposed for every number, a review page."""
