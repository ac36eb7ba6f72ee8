"""A production-like task definition, as DescribeTaskDefinition(include=TAGS) returns it.

Shared by the unit tests of the new revision and the sandbox round trip.
"""

from __future__ import annotations

from typing import Any

from tests.unit.ecs.fakes import REPO

# Describe-only keys ECS returns (the strip list of both aws-actions plus the
# one they miss) and one it may add tomorrow.
DESCRIBE_ONLY = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-web:41",
    "revision": 41,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.21"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2026-10-01T10:00:00.000Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/deployer/ci",
    "deregisteredAt": "2026-10-02T10:00:00.000Z",
    "deleteRequestedAt": "2026-10-03T10:00:00.000Z",
    "someFieldEcsAddsNextYear": {"x": 1},
}


def rich() -> dict[str, Any]:
    """A production-like description: app + envoy + firelens + agent sidecars."""
    task: dict[str, Any] = {
        "family": "shop-web",
        "taskRoleArn": "arn:aws:iam::123456789012:role/shop-web-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/shop-web-exec",
        "networkMode": "awsvpc",
        "cpu": "1024",
        "memory": "2048",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "ephemeralStorage": {"sizeInGiB": 40},
        "enableFaultInjection": False,
        "pidMode": "task",
        "placementConstraints": [],
        "inferenceAccelerators": [],
        "proxyConfiguration": {
            "type": "APPMESH",
            "containerName": "envoy",
            "properties": [
                {"name": "IgnoredUID", "value": "1337"},
                {"name": "EgressIgnoredIPs", "value": ""},
                {"name": "AppPorts", "value": "8080"},
            ],
        },
        "volumes": [
            {"name": "scratch", "host": {}},
            {
                "name": "shared",
                "efsVolumeConfiguration": {
                    "fileSystemId": "fs-0123456789abcdef0",
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                    "authorizationConfig": {"accessPointId": "fsap-0123", "iam": "ENABLED"},
                },
            },
        ],
        "containerDefinitions": [
            {
                "name": "app",
                "image": f"{REPO}:sha-1234567",
                "essential": True,
                "cpu": 0,
                "command": ["gunicorn", "--bind", "0.0.0.0:8080", "app:wsgi"],
                "entryPoint": [],
                "portMappings": [
                    {
                        "containerPort": 8080,
                        "hostPort": 8080,
                        "protocol": "tcp",
                        "name": "http",
                        "appProtocol": "http",
                    }
                ],
                "environment": [
                    {"name": "EMPTY_ON_PURPOSE", "value": ""},
                    {"name": "DSN", "value": "postgres://db/shop?sslmode=require&x=a=b"},
                ],
                "environmentFiles": [{"value": "arn:aws:s3:::cfg/web.env", "type": "s3"}],
                "secrets": [
                    {"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"},
                    {"name": "API_KEY", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:k"},
                ],
                "mountPoints": [{"sourceVolume": "shared", "containerPath": "/data"}],
                "volumesFrom": [],
                "dependsOn": [
                    {"containerName": "envoy", "condition": "HEALTHY"},
                    {"containerName": "log_router", "condition": "START"},
                ],
                "healthCheck": {
                    "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
                    "interval": 10,
                    "timeout": 5,
                    "retries": 3,
                    "startPeriod": 30,
                },
                "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
                "linuxParameters": {
                    "initProcessEnabled": True,
                    "capabilities": {"add": [], "drop": ["NET_RAW"]},
                },
                "dockerLabels": {"com.example.query": "a=b=c", "empty": ""},
                "logConfiguration": {
                    "logDriver": "awsfirelens",
                    "options": {"Name": "cloudwatch", "tag": "", "log_key": "k=v=w"},
                    "secretOptions": [{"name": "apikey", "valueFrom": "arn:aws:ssm:::p/log"}],
                },
                "readonlyRootFilesystem": True,
                "user": "1000:1000",
                "stopTimeout": 60,
                "restartPolicy": {"enabled": True, "restartAttemptPeriod": 60},
                "versionConsistency": "enabled",
            },
            {
                "name": "envoy",
                "image": "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.27",
                "essential": True,
                "user": "1337",
                "environment": [{"name": "APPMESH_RESOURCE_ARN", "value": "arn:mesh"}],
                "healthCheck": {
                    "command": ["CMD-SHELL", "curl -s http://localhost:9901/ready"],
                    "interval": 5,
                    "retries": 3,
                    "timeout": 2,
                },
            },
            {
                "name": "log_router",
                "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
                "essential": True,
                "firelensConfiguration": {"type": "fluentbit", "options": {}},
                "memoryReservation": 50,
            },
            {
                "name": "worker",
                "image": f"{REPO}@sha256:{'c' * 64}",
                "essential": False,
                "command": ["python", "-m", "worker"],
                "environment": [],
            },
        ],
        **DESCRIBE_ONLY,
    }
    return {
        "taskDefinition": task,
        "tags": [
            {"key": "team", "value": "shop"},
            {"key": "cost-center", "value": ""},
            {"key": "aws:cloudformation:stack-name", "value": "shop"},
        ],
    }
