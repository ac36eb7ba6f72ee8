"""AWS refusals (IAM, unknown keys, bad signatures) said alike by every adapter."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline.adapters.aws_errors import error_code, refusal

MOTO_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>{code}</Code>'
    "<Message>User: arn:aws:iam::123456789012:user/u is not authorized</Message>"
    "</Error></Errors></ErrorResponse>"
)


def client_error(code: str, message: str = "", status: int = 400, op: str = "PutImage") -> Any:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        op,
    )


@pytest.mark.parametrize(
    ("err", "code"),
    [
        (client_error("AccessDeniedException"), "AccessDeniedException"),
        (client_error("403", MOTO_XML.format(code="AccessDenied"), 403), "AccessDenied"),
        (
            client_error("403", MOTO_XML.format(code="InvalidClientTokenId"), 403),
            "InvalidClientTokenId",
        ),
        (client_error("403", "<html>forbidden</html>", 403), "403"),
        (client_error("ThrottlingException"), "ThrottlingException"),
        (ValueError("x"), "ValueError"),
    ],
)
def test_the_code_comes_from_the_response_or_from_an_xml_body_when_it_is_a_bare_status(
    err: Exception, code: str
) -> None:
    assert error_code(err) == code


@pytest.mark.parametrize(
    ("code", "message", "service", "op", "expected"),
    [
        (
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/u is not authorized to perform: ecr:PutImage",
            "ecr",
            "PutImage",
            "access denied (AccessDeniedException): the AWS credentials' policy does not allow"
            " ecr:PutImage; `pipeline iam-policy` prints the policy this config needs",
        ),
        (
            "403",
            MOTO_XML.format(code="AccessDenied"),
            "ecs",
            "UpdateService",
            "access denied (AccessDenied): the AWS credentials' policy does not allow"
            " ecs:UpdateService; `pipeline iam-policy` prints the policy this config needs",
        ),
        (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            "ecr",
            "GetAuthorizationToken",
            "the AWS access key is not recognised (UnrecognizedClientException) for"
            " ecr:GetAuthorizationToken; check the credentials",
        ),
        (
            "SignatureDoesNotMatch",
            "",
            "codedeploy",
            "CreateDeployment",
            "AWS refused the request signature (SignatureDoesNotMatch) for"
            " codedeploy:CreateDeployment; check the secret key",
        ),
        ("RepositoryNotFoundException", "", "ecr", "DescribeRepositories", None),
        ("ThrottlingException", "", "ecs", "DescribeServices", None),
    ],
)
def test_a_refusal_names_the_iam_action_and_the_fix_and_nothing_aws_sent(
    code: str, message: str, service: str, op: str, expected: str | None
) -> None:
    said = refusal(client_error(code, message, op=op), service)

    assert said == expected
    if said is not None:
        assert "arn:" not in said and "<" not in said
