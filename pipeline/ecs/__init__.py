"""Deploying to Amazon ECS by digest.

`deploy.deploy_ecs` / `deploy.deploy_all` are the entry points; they see AWS
only through the Protocols in `ports` (boto3 lives in
`pipeline/adapters/ecs.py`). `taskdef` (the new revision), `rollout` (judging
a deployment), `codedeploy` (AppSpec, CODE_DEPLOY services), `guard` (never
backwards, shared with other targets) and `codepipeline` (the CodePipeline
files) are small and mostly pure.
"""
