"""Deploying to Kubernetes (EKS or any cluster named by a kubeconfig context).

The pure core lives here: the bearer token's format and lifetime, the patch
that changes only the named containers, the rollout judge and the deploy
itself. The kubernetes client and AWS calls are behind the small ports in
`ports.py` (real ones in `pipeline/adapters/kube.py` and `eks.py`).
"""
