"""Foundation every stage may use: project paths, user errors, settings, and a run's inputs read once."""
