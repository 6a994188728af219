"""A route class that writes each route's required permission into the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.context import require


def _requirements(dependant: Dependant) -> list[require]:
    found = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, require):
            found.append(sub.call)
        found.extend(_requirements(sub))
    return found


class DocumentedRoute(APIRoute):
    """Adds "Requires: …" to the description and ``x-required-permissions`` to the operation."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any):
        super().__init__(path, endpoint, **kwargs)
        requirements = _requirements(self.dependant)
        if not requirements:
            return
        needed = "; ".join(r.describe() for r in requirements)
        self.description = (self.description or "").rstrip() + f"\n\n**Requires:** {needed}."
        extra = dict(self.openapi_extra or {})
        extra["x-required-permissions"] = sorted({p for r in requirements for p in r.permissions})
        self.openapi_extra = extra
