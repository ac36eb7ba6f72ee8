"""Where users run the pipeline: CI fan-out matrices, the IAM policy, CI outputs."""
