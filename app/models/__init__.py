"""All tables, imported so that ``SQLModel.metadata`` knows every one of them."""

from app.models.api_keys import ApiKey
from app.models.audit import AuditEntry
from app.models.auth import IdempotencyRecord, LoginThrottle
from app.models.conferences import Conference
from app.models.config import ConfigRevision, ConfigState
from app.models.destinations import DestinationReference
from app.models.devices import Device
from app.models.dids import Did
from app.models.forwarding import UserForwarding
from app.models.groups import Group, GroupMember
from app.models.inbound_rules import InboundRule
from app.models.ivr_menus import IvrGreeting, IvrMenu
from app.models.keys import UserKeys
from app.models.office_hours import OfficeHours
from app.models.options import UserOptions
from app.models.organizations import Organization
from app.models.roles import Role
from app.models.sip_accounts import SipAccount
from app.models.trunks import OutboundRoute, Trunk
from app.models.users import User
from app.models.voicemail import VoicemailGreeting
from app.models.webhooks import WebhookDelivery, WebhookSubscription

__all__ = ["ApiKey", "AuditEntry", "Conference", "ConfigRevision", "ConfigState", "DestinationReference", "Device",
           "Did", "Group", "GroupMember", "IdempotencyRecord", "InboundRule", "IvrGreeting", "IvrMenu",
           "LoginThrottle", "OfficeHours", "Organization", "OutboundRoute", "Role", "SipAccount", "Trunk", "User",
           "UserForwarding", "UserKeys", "UserOptions", "VoicemailGreeting", "WebhookDelivery", "WebhookSubscription"]
