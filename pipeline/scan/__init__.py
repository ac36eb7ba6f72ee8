"""Waiting for a registry's vulnerability scan, gating on it, and reporting it.

`findings` reads both ECR shapes (basic and enhanced) into one value; `wait`
polls a scan to a result through the `ports.ScanApi` Protocol; `gate` decides
pass or block, purely; `sarif`, `summary`, `table` and `fragments` render the
results. Only `pipeline.adapters.ecr_scan` knows boto3.
"""
