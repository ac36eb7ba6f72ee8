"""A task definition with every field the existing deploy tools are known to lose.

Shared by the unit tests of the sandbox's ECS (in-process moto) and the
integration tests against the running sandbox: empty values, `=` in values,
sidecars, log options with secrets, tags, and fields newer than moto.
"""

from __future__ import annotations

from typing import Any

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"

APP = {
    "name": "app",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1",
    "cpu": 128,
    "memory": 256,
    "memoryReservation": 128,
    "essential": True,
    "command": ["serve", "--port=80"],
    "entryPoint": ["/entry"],
    "workingDirectory": "/srv",
    "user": "1000:1000",
    "environment": [{"name": "EMPTY", "value": ""}, {"name": "EQUALS", "value": "a=b=c"}],
    "environmentFiles": [{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}],
    "secrets": [
        {"name": "DB_PASSWORD", "valueFrom": SECRET},
        {"name": "API_KEY", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/api"},
    ],
    "portMappings": [
        {
            "containerPort": 80,
            "hostPort": 80,
            "protocol": "tcp",
            "name": "http",
            "appProtocol": "http",
        }
    ],
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/app", "tag": "", "mode": "non-blocking", "k": "a=b"},
        "secretOptions": [{"name": "token", "valueFrom": SECRET}],
    },
    "healthCheck": {
        "command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
        "interval": 30,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 10,
    },
    "dependsOn": [{"containerName": "sidecar", "condition": "HEALTHY"}],
    "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
    "linuxParameters": {
        "initProcessEnabled": True,
        "capabilities": {"add": ["SYS_PTRACE"], "drop": ["ALL"]},
        "tmpfs": [{"containerPath": "/tmp", "size": 64, "mountOptions": ["noexec"]}],
    },
    "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}],
    "volumesFrom": [],
    "dockerLabels": {"empty": "", "equals": "x=y", "team": "web"},
    "readonlyRootFilesystem": True,
    "stopTimeout": 30,
    "startTimeout": 60,
    "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
    "extraHosts": [{"hostname": "db", "ipAddress": "10.0.0.5"}],
    "versionConsistency": "disabled",
    "restartPolicy": {"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60},
    "repositoryCredentials": {"credentialsParameter": SECRET},
}
SIDECAR = {
    "name": "sidecar",
    "image": "public.ecr.aws/aws-observability/aws-otel-collector@sha256:" + "a" * 64,
    "memoryReservation": 64,
    "essential": False,
    "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
    "healthCheck": {"command": ["CMD", "/healthcheck"]},
}
TASK_DEFINITION: dict[str, Any] = {
    "family": "web",
    "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
    "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec",
    "networkMode": "awsvpc",
    "containerDefinitions": [APP, SIDECAR],
    "volumes": [
        {"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "/"}}
    ],
    "placementConstraints": [],
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "tags": [{"key": "team", "value": "web"}, {"key": "empty", "value": ""}],
    "pidMode": "task",
    "ipcMode": "none",
    "proxyConfiguration": {
        "type": "APPMESH",
        "containerName": "sidecar",
        "properties": [
            {"name": "AppPorts", "value": "80"},
            {"name": "EgressIgnoredIPs", "value": ""},
        ],
    },
    "ephemeralStorage": {"sizeInGiB": 30},
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "enableFaultInjection": True,
}
