"""A route class that documents each route's required permission and knows whether its transaction writes."""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.context import SAFE_METHODS, require
from app.core.db import READ, WRITE


def _requirements(dependant: Dependant) -> list[require]:
    found = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, require):
            found.append(sub.call)
        found.extend(_requirements(sub))
    return found


class DocumentedRoute(APIRoute):
    """Adds "Requires: …" to the description and ``x-required-permissions`` to the operation.

    ``transaction`` tells the session dependency the request's session mode (see
    app.core.db): write for unsafe methods, read for the others, unless the route's
    ``require(transaction=...)`` says otherwise.
    """

    def __init__(self, path: str, endpoint: Any, **kwargs: Any):
        super().__init__(path, endpoint, **kwargs)
        requirements = _requirements(self.dependant)
        declared = [r.transaction for r in requirements if r.transaction is not None]
        self.transaction: str = declared[0] if declared else READ if self.methods <= SAFE_METHODS else WRITE
        if not requirements:
            return
        needed = "; ".join(r.describe() for r in requirements)
        self.description = (self.description or "").rstrip() + f"\n\n**Requires:** {needed}."
        extra = dict(self.openapi_extra or {})
        extra["x-required-permissions"] = sorted({p for r in requirements for p in r.permissions})
        self.openapi_extra = extra
