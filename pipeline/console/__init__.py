"""The terminal of `pipeline run`: live progress, plain CI lines, GitHub's folds and summary."""
