"""Connecting to a cluster: EKS through boto3 and STS, or a kubeconfig context.

For an EKS cluster, DescribeCluster gives the API server's URL and CA, and the
bearer token is an STS GetCallerIdentity request presigned with the caller's
AWS credentials (see pipeline/kube/token.py for its format). botocore signs
it; nothing is sent to STS here: EKS's authenticator does that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.adapters import kube
from pipeline.deployment import DeployError
from pipeline.kube import token
from pipeline.kube.ports import Cluster, KubeApi

Clock = Callable[[], dt.datetime]
#: Returns botocore credentials (anything with get_frozen_credentials()), or None.
CredentialSource = Callable[[], Any]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _default_credentials() -> Any:
    import boto3

    return boto3.Session().get_credentials()


def _default_eks(region: str) -> Any:
    from pipeline.adapters.ecr import client

    return client("eks", region)


def presign(credentials: Any, region: str, cluster: str) -> str:
    """The presigned GetCallerIdentity URL, with the cluster name in a signed header."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    if credentials is None:
        raise DeployError(f"no AWS credentials to sign a token for EKS cluster {cluster}")
    request = AWSRequest(
        method="GET",
        url=token.caller_identity_url(region),
        headers={token.CLUSTER_HEADER: cluster},
    )
    signer = SigV4QueryAuth(
        credentials.get_frozen_credentials(), "sts", region, expires=token.PRESIGN_EXPIRES
    )
    signer.add_auth(request)
    return str(request.url)


class Connector:
    """The KubeConnector port: an EKS cluster by name, or a kubeconfig context."""

    def __init__(
        self,
        region: str | None,
        env: Mapping[str, str],
        clock: Clock = _utcnow,
        credentials: CredentialSource = _default_credentials,
        eks: Callable[[str], Any] = _default_eks,
    ) -> None:
        self._region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        self._env = env
        self._clock = clock
        self._credentials = credentials
        self._eks = eks

    def connect(self, cluster: Cluster) -> KubeApi:
        if cluster.context:
            return kube.from_kubeconfig(cluster.context, self._env.get("KUBECONFIG"))
        if not cluster.name:
            raise DeployError("an eks target needs either `cluster` (EKS) or `context`")
        region = cluster.region or self._region
        if not region:
            raise DeployError(
                f"no region for EKS cluster {cluster.name}: set `region:` on the target,"
                " or AWS_REGION"
            )
        endpoint, ca_data = self.describe(cluster.name, region)
        creds = self._credentials()
        tokens = token.TokenSource(lambda: presign(creds, region, str(cluster.name)), self._clock)
        label = f"EKS cluster {cluster.name} ({region})"
        return kube.from_endpoint(endpoint, ca_data, tokens.get, label)

    def describe(self, name: str, region: str) -> tuple[str, str | None]:
        """The API server's URL and its CA (base64 PEM) from DescribeCluster."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self._eks(region).describe_cluster(name=name)["cluster"]
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise DeployError(f"EKS cluster {name} not found in {region}") from err
            message = err.response.get("Error", {}).get("Message", "")
            raise DeployError(f"describing EKS cluster {name}: {code} {message}") from err
        except BotoCoreError as err:
            raise DeployError(f"describing EKS cluster {name} in {region}: {err}") from err
        status = found.get("status", "ACTIVE")
        endpoint = found.get("endpoint")
        if status not in ("ACTIVE", "UPDATING") or not endpoint:
            raise DeployError(f"EKS cluster {name} in {region} is {status}, not ACTIVE")
        return str(endpoint), (found.get("certificateAuthority") or {}).get("data")
