"""pipeline: from a git commit to a released container image on AWS."""

__version__ = "0.1.0"
