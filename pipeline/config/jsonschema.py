"""The JSON Schema of the config, for editors (yaml-language-server)."""

from __future__ import annotations

from typing import Any

from pipeline.config.schema import Config


def schema() -> dict[str, Any]:
    body = Config.model_json_schema(mode="validation")
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pipeline.local/schema/v1.json",
    }
    out.update(body)
    out["title"] = "pipeline.yaml (version 1)"
    return out
