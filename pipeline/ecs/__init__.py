"""Deploying to Amazon ECS by digest.

`deploy.deploy_ecs` / `deploy.deploy_all` are the entry points; they see AWS
only through the Protocols in `ports` (boto3 lives in
`pipeline/adapters/ecs.py`). `taskdef` (the new revision), `rollout` (judging
a deployment), `codedeploy` (AppSpec, CODE_DEPLOY services) and
`codepipeline` (the CodePipeline files) are small and mostly pure. The
never-backwards guard is target-agnostic: `pipeline/guard.py`.
"""
