"""Where users run the pipeline: what the CI service says (env), fan-out matrices, the IAM
policy, CI outputs."""
