"""The least-privilege IAM policy of a config: `needs()` reads the config, `policy()` writes it."""

from pipeline.ci.iam.needs import EcsNeed, EksNeed, Needs, needs
from pipeline.ci.iam.policy import Policy, check_roles, policy

__all__ = ["EcsNeed", "EksNeed", "Needs", "Policy", "check_roles", "needs", "policy"]
