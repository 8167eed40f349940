"""JSON bodies in and out: the strict request base model and fast list encoders."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, TypeAdapter

from console.domain.models import Incident

_INCIDENTS = TypeAdapter(list[Incident])


class Body(BaseModel):
    """A request or response body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


def json_response(data: bytes, status: int = 200) -> Response:
    return Response(data, status, media_type="application/json")


def incidents_json(items: Sequence[Incident], status: int = 200) -> Response:
    return json_response(_INCIDENTS.dump_json(list(items)), status)


def model_json(model: BaseModel, status: int = 200) -> Response:
    return json_response(model.model_dump_json().encode(), status)
