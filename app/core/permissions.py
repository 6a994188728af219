"""The permission catalogue and the built-in roles every organization has.

There is a permission for every resource that exists or is designed (DESIGN.md), so a
custom role can be made now for what comes later; the README maps 3CX's system
management rights and Axivox's portal permissions onto them.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "users.read": "List and read users",
    "users.write": "Create, change and delete users",
    "sip_accounts.read": "List and read SIP accounts (never their passwords)",
    "sip_accounts.write": "Create, change, delete SIP accounts and rotate their passwords",
    "sip_secrets.read": "Reveal SIP passwords (audited)",
    "voicemail.read": "Read users' voicemail settings and greetings",
    "voicemail.write": "Change users' voicemail settings and greetings",
    "voicemail_pins.read": "Reveal voicemail PINs (audited)",
    "dids.read": "List and read DIDs",
    "dids.write": "Create, change and delete DIDs",
    "inbound_rules.read": "List and read inbound rules",
    "inbound_rules.write": "Create, change and delete inbound rules",
    "office_hours.read": "List and read office-hours schedules",
    "office_hours.write": "Create, change and delete office-hours schedules",
    "groups.read": "List and read groups and their members",
    "groups.write": "Create, change and delete groups and memberships",
    "conferences.read": "List and read conference rooms",
    "conferences.write": "Create, change and delete conference rooms",
    "ivr_menus.read": "List and read IVR menus",
    "ivr_menus.write": "Create, change and delete IVR menus",
    "prompts.read": "List and play uploaded prompts (greetings, announcements, music on hold)",
    "prompts.write": "Upload and delete prompts",
    "trunks.read": "List and read SIP trunks (never their passwords)",
    "trunks.write": "Create, change and delete SIP trunks",
    "trunk_secrets.read": "Reveal SIP trunk passwords (audited)",
    "outbound_routes.read": "List and read outbound routes",
    "outbound_routes.write": "Create, change and delete outbound routes",
    "blocklist.read": "List blocked caller numbers",
    "blocklist.write": "Block and unblock caller numbers",
    "phonebook.read": "Read the company phonebook",
    "phonebook.write": "Change the company phonebook",
    "devices.read": "List and read devices",
    "devices.write": "Create, change and delete devices",
    "registrations.read": "See which phones are registered now",
    "call_reports.read": "Read call reports (call history and costs)",
    "recordings.read": "List and download call recordings",
    "roles.read": "List and read roles",
    "roles.write": "Create, change and delete custom roles",
    "config.read": "See the configuration status and revisions",
    "config.apply": "Apply the configuration and restore revisions",
    "audit.read": "Read the audit log",
    "api_keys.read": "List API keys",
    "api_keys.write": "Create and revoke API keys",
    "webhooks.read": "List webhook subscriptions and deliveries",
    "webhooks.write": "Create, change and delete webhook subscriptions",
    "organization.read": "Read the organization's settings",
    "organization.write": "Change the organization's settings",
}

# Permissions that reveal a secret: never part of a reading role.
SECRET_READS = frozenset({"sip_secrets.read", "voicemail_pins.read", "trunk_secrets.read"})
_READ = sorted(p for p in PERMISSIONS if p.endswith(".read") and p not in SECRET_READS)

BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "owner": ("Everything in the organization", sorted(PERMISSIONS)),
    "admin": ("Everything but the organization's own settings",
              sorted(p for p in PERMISSIONS if p != "organization.write")),
    "manager": ("Manages users, their phones and their groups (within the principal's scope)", sorted({
        "users.read", "users.write", "sip_accounts.read", "sip_accounts.write", "sip_secrets.read",
        "voicemail.read", "voicemail.write", "groups.read", "groups.write", "dids.read", "inbound_rules.read",
        "office_hours.read", "conferences.read", "ivr_menus.read", "prompts.read", "phonebook.read",
        "phonebook.write", "devices.read", "devices.write", "registrations.read", "call_reports.read",
        "config.read", "organization.read", "roles.read",
    })),
    "user": ("Self-service: one's own profile, SIP account and voicemail", sorted({
        "users.read", "users.write", "sip_accounts.read", "sip_secrets.read", "voicemail.read", "voicemail.write",
        "voicemail_pins.read", "groups.read", "phonebook.read", "organization.read",
    })),
    "readonly": ("Reads everything except secrets", _READ),
}

SCOPE_ORDER = {"own": 0, "groups": 1, "all": 2}
