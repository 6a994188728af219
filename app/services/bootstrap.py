"""First start: the default organization and its owner."""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.security import hash_password
from app.core.settings import Settings
from app.models import AuditEntry, Organization, User
from app.models.organizations import OrganizationCreate
from app.services import organizations, roles


async def ensure_bootstrap(session: AsyncSession, settings: Settings) -> str | None:
    """On an empty database create ``default`` and an owner; returns a generated password to print once."""
    if (await session.execute(select(func.count()).select_from(Organization))).scalar_one():
        return None
    organization = await organizations.create_with_roles(session, OrganizationCreate(
        name="Default", slug=settings.bootstrap_organization_slug, sip_domain=settings.bootstrap_sip_domain))
    configured = settings.bootstrap_admin_password
    password = configured.get_secret_value() if configured else secrets.token_urlsafe(12)
    await create_admin(session, organization, settings.bootstrap_admin_username, password, platform_admin=True)
    return None if configured else password


async def create_admin(session: AsyncSession, organization: Organization, username: str, password: str,
                       *, platform_admin: bool) -> User:
    """An owner account with scope ``all`` (used by bootstrap and ``centralino create-admin``)."""
    if (await session.execute(select(User.id).where(User.username == username))).first():
        raise Conflict(f"Username '{username}' is taken")
    owner = await roles.by_name(session, organization.id, "owner")
    user = User(organization_id=organization.id, first_name=username, last_name="", username=username,
                password_hash=await asyncio.to_thread(hash_password, password), role_id=owner.id, scope="all", is_platform_admin=platform_admin)
    session.add(user)
    await session.flush()
    session.add(AuditEntry(organization_id=organization.id, actor_type="system", actor_name="system",
                           action="user.create_admin", resource_type="user", resource_id=str(user.id),
                           after={"username": username, "platform_admin": platform_admin, "password": "***"}))
    return user
