"""`docker-credential-pipeline`: registry credentials for docker, fetched when asked.

A docker credential helper (the protocol of docker-credential-helpers) that
answers for ECR hosts with a fresh GetAuthorizationToken, as
amazon-ecr-credential-helper does, and writes nothing anywhere: docker asks it
each time it needs a login, so no token sits in a config file.
"""
