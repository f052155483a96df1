"""Publishing: the skip, the committed switch, the published state, releases, their page and diff, distribution."""
