"""SIP trunks: unique names, write-only encrypted passwords, the audited reveal; a trunk that a route uses
cannot be deleted."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select

from app.core.context import Context
from app.core.errors import Conflict, FieldErrors, NotFound
from app.core.pagination import ListParams, apply_sort, contains, paginate
from app.models.trunks import Trunk, TrunkCreate, TrunkUpdate
from app.services import audit, destinations
from app.services.changes import delete_row, update_row

RESOURCE = "trunk"


def _query(ctx: Context):
    return select(Trunk).where(Trunk.organization_id == ctx.principal.organization_id)


async def get(ctx: Context, trunk_id: uuid.UUID) -> Trunk:
    """One trunk of the caller's organization, or 404."""
    trunk = (await ctx.session.execute(ctx.locked(_query(ctx).where(Trunk.id == trunk_id), Trunk))).scalar_one_or_none()
    if trunk is None:
        raise NotFound("Trunk not found")
    return trunk


async def list_trunks(ctx: Context, params: ListParams) -> tuple[list[Trunk], int]:
    """The organization's trunks; ``q`` searches name and host."""
    query = _query(ctx)
    if params.q:
        query = query.where(or_(contains(Trunk.name, params.q), contains(Trunk.host, params.q)))
    query = apply_sort(query, params, {"name": Trunk.name, "host": Trunk.host, "created_at": Trunk.created_at},
                       "name", Trunk.id)
    return await paginate(ctx.session, query, params)


async def _check_name_free(ctx: Context, name: str, exclude: uuid.UUID | None = None) -> None:
    query = _query(ctx).with_only_columns(Trunk.id).where(func.lower(Trunk.name) == name.lower())
    if exclude is not None:
        query = query.where(Trunk.id != exclude)
    if (await ctx.session.execute(query.limit(1))).first() is not None:
        raise Conflict.field(["body", "name"], f"A trunk named '{name}' already exists", "trunk-name-taken")


def _check_codecs(codecs: list[str], errors: FieldErrors) -> None:
    seen = set()
    for index, codec in enumerate(codecs):
        if codec in seen:
            errors.add(["body", "codecs", index], f"'{codec}' is listed twice", "duplicate")
        seen.add(codec)


def _check_credentials(values: dict[str, Any], has_password: bool, errors: FieldErrors) -> None:
    """Registration needs a username and a password; a password needs a username to go with it."""
    if values["registers"] and not (values["username"] and has_password):
        errors.add(["body", "register"], "A trunk that registers needs a username and a password",
                   "credentials_required")
    if has_password and not values["username"]:
        errors.add(["body", "username"], "A password needs a username (the digest user name)", "username_required")


async def create(ctx: Context, payload: TrunkCreate) -> Trunk:
    """A new trunk; its password is encrypted at rest."""
    errors = FieldErrors()
    values = payload.model_dump(exclude={"password"}, mode="json")
    _check_codecs(values["codecs"], errors)
    _check_credentials(values, payload.password is not None, errors)
    errors.raise_if_any()
    await _check_name_free(ctx, payload.name)
    trunk = Trunk(organization_id=ctx.principal.organization_id, **values,
                  password_encrypted=ctx.secret_box.encrypt(payload.password) if payload.password else None)
    ctx.session.add(trunk)
    await ctx.session.flush()
    await audit.record(ctx, "trunk.create", RESOURCE, trunk.id, after=audit.snapshot(trunk), config_change=True)
    return trunk


async def update(ctx: Context, trunk: Trunk, payload: TrunkUpdate) -> Trunk:
    """JSON merge patch; a new password replaces the stored one (``null`` removes it)."""
    changes = payload.model_dump(exclude_unset=True, mode="json")
    errors = FieldErrors()
    for required in ("name", "host", "port", "transport", "registers", "codecs", "match"):
        if required in changes and changes[required] is None:
            errors.add(["body", "register" if required == "registers" else required], "must not be null", "null")
    errors.raise_if_any()
    password_given = "password" in changes
    password = changes.pop("password", None)
    if "codecs" in changes:
        _check_codecs(changes["codecs"], errors)
    merged = {name: changes.get(name, getattr(trunk, name)) for name in ("registers", "username")}
    has_password = password is not None if password_given else trunk.password_encrypted is not None
    _check_credentials(merged, has_password, errors)
    errors.raise_if_any()
    if changes.get("name") not in (None, trunk.name):
        await _check_name_free(ctx, changes["name"], exclude=trunk.id)
    if password_given:
        changes["password_encrypted"] = ctx.secret_box.encrypt(password) if password is not None else None
    await update_row(ctx, trunk, changes, action="trunk.update", resource=RESOURCE, config_change=True)
    return trunk


async def delete(ctx: Context, trunk: Trunk) -> None:
    """Delete a trunk; one that an outbound route uses cannot go (409 listing the routes)."""
    await destinations.refuse_if_referenced(ctx, RESOURCE, trunk.id, f"Trunk '{trunk.name}'")
    await delete_row(ctx, trunk, action="trunk.delete", resource=RESOURCE, config_change=True)


async def reveal(ctx: Context, trunk: Trunk) -> str | None:
    """The plaintext password, for a principal holding ``trunk_secrets.read``; audited."""
    await audit.record(ctx, "trunk.secret_reveal", RESOURCE, trunk.id, after={"name": trunk.name})
    return ctx.secret_box.decrypt(trunk.password_encrypted) if trunk.password_encrypted else None


async def existing_ids(ctx: Context, trunk_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ids are trunks of the caller's organization (one query)."""
    if not trunk_ids:
        return set()
    rows = await ctx.session.execute(_query(ctx).with_only_columns(Trunk.id).where(Trunk.id.in_(trunk_ids)))
    return set(rows.scalars())

