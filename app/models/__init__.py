"""All tables, imported so that ``SQLModel.metadata`` knows every one of them."""

from app.models.api_keys import ApiKey
from app.models.audit import AuditEntry
from app.models.config import ConfigRevision, ConfigState
from app.models.destinations import DestinationReference
from app.models.devices import Device
from app.models.groups import Group, GroupMember
from app.models.auth import IdempotencyRecord, LoginThrottle
from app.models.organizations import Organization
from app.models.roles import Role
from app.models.sip_accounts import SipAccount
from app.models.users import User

__all__ = ["ApiKey", "AuditEntry", "ConfigRevision", "ConfigState", "DestinationReference", "Device", "Group",
           "GroupMember", "IdempotencyRecord", "LoginThrottle", "Organization", "Role", "SipAccount", "User"]
