"""Small value types shared by the config models: durations, ids, names."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_PATTERN = r"^\s*(?:\d+h)?(?:\d+m)?(?:\d+s)?\s*$"


class UnquotedDigits(str):
    """A plain (unquoted) YAML scalar of digits with a leading zero.

    YAML 1.1 reads `012345670123` as an octal number and YAML 1.2 as a decimal
    one; either way the leading zero is gone. The loader keeps such scalars as
    text so nothing is lost, but marks them so that fields holding ids can ask
    for quotes (https://github.com/aws-actions/amazon-ecr-login/issues/225).
    """

    __slots__ = ()


def parse_duration(value: Any) -> float:
    """`30s`, `10m`, `1h`, `1h30m` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m or 1h")
    if isinstance(value, int | float):
        raise ValueError(f"a duration needs a unit: write {value}s, not {value}")
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 10m or 1h")
    text = value.strip()
    match = _DURATION.match(text)
    if not text or not match:
        raise ValueError(f"invalid duration {value!r}: use a number with s, m or h (30s, 10m, 1h)")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def format_duration(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "10m", "1h"]}
    ),
]


def _account_id(value: Any) -> Any:
    if isinstance(value, UnquotedDigits | int) and not isinstance(value, bool):
        if len(str(value)) != 12:
            raise ValueError(
                f"an AWS account id is 12 digits, got {len(str(value))} ({value}); write it quoted"
            )
        raise ValueError(
            f"YAML reads the unquoted {value} as a number, which can drop leading zeros;"
            f' quote it: account: "{value}"'
        )
    if isinstance(value, str) and not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"an AWS account id is 12 digits, got {value!r}")
    return value


AccountId = Annotated[
    str,
    BeforeValidator(_account_id),
    WithJsonSchema({"type": "string", "pattern": r"^\d{12}$"}),
]


def parse_date(value: Any) -> dt.date:
    """`YYYY-MM-DD` only: pydantic would also read 86400 as 1970-01-02."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a real date") from None


Date = Annotated[
    dt.date,
    BeforeValidator(parse_date),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def _scalar_text(value: Any) -> Any:
    """Build args and labels are strings; accept unambiguous YAML scalars too."""
    if isinstance(value, bool):
        raise ValueError(
            f"YAML reads this as the boolean {str(value).lower()}; quote it to pass text"
        )
    if isinstance(value, float):
        raise ValueError(
            f"YAML reads this as the number {value!r}, which may not be what you wrote"
            " (3.10 becomes 3.1); quote it"
        )
    if isinstance(value, int):
        return str(value)
    return value


ScalarText = Annotated[
    str,
    BeforeValidator(_scalar_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
]


@dataclass(frozen=True)
class _Case:
    """Read a word in any case, as its upper- or lower-case form.

    The JSON Schema says so too (`x-case-insensitive`), so that the published
    schema can accept `high` where the loader accepts it (see jsonschema.py).
    """

    upper: bool

    def _normalise(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.upper() if self.upper else value.lower()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self._normalise, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out[CASE_INSENSITIVE] = True
        return out


CASE_INSENSITIVE = "x-case-insensitive"
Upper = _Case(upper=True)
Lower = _Case(upper=False)

REGION_PATTERN = r"^[a-z]{2,4}(?:-[a-z]+)+-\d+$"
ECR_COMPONENT_PATTERN = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
# distribution/reference: path components, separators `.`, `_`, `__` or runs of `-`.
OCI_REPOSITORY_PATTERN = (
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)

#: A private ECR registry host (the partitions' suffixes, as the credential helper knows them).
ECR_HOST_PATTERN = (
    r"^[0-9]{12}\.dkr[.-]ecr(-fips)?\.[a-zA-Z0-9][a-zA-Z0-9-_]*\."
    r"(amazonaws\.(com(\.cn)?|eu)|on\.(aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov"
    r"|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$"
)


def _ecr_host(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(ECR_HOST_PATTERN, value):
        lower = " (in lower case)" if re.fullmatch(ECR_HOST_PATTERN, value.lower()) else ""
        raise ValueError(
            f"{value!r} is not a private ECR host{lower}"
            " (like 123456789012.dkr.ecr.eu-west-1.amazonaws.com, no scheme or path)"
        )
    return value


EcrHost = Annotated[
    str,
    BeforeValidator(_ecr_host),
    WithJsonSchema({"type": "string", "pattern": ECR_HOST_PATTERN}),
]
