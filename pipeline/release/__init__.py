"""`pipeline release`: the next semver tag, created, pushed, then run."""
