"""The permission catalogue and the built-in roles every organization has."""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "users.read": "List and read users",
    "users.write": "Create, change and delete users",
    "sip_accounts.read": "List and read SIP accounts (never their passwords)",
    "sip_accounts.write": "Create, change, delete SIP accounts and rotate their passwords",
    "sip_secrets.read": "Reveal SIP passwords (audited)",
    "dids.read": "List and read DIDs",
    "dids.write": "Create, change and delete DIDs",
    "inbound_rules.read": "List and read inbound rules",
    "inbound_rules.write": "Create, change and delete inbound rules",
    "groups.read": "List and read groups",
    "groups.write": "Create, change and delete groups and memberships",
    "devices.read": "List and read devices",
    "devices.write": "Create, change and delete devices",
    "roles.read": "List and read roles",
    "roles.write": "Create, change and delete custom roles",
    "config.read": "See the configuration status and revisions",
    "config.apply": "Apply the configuration and restore revisions",
    "audit.read": "Read the audit log",
    "api_keys.read": "List API keys",
    "api_keys.write": "Create and revoke API keys",
    "organization.read": "Read the organization's settings",
    "organization.write": "Change the organization's settings",
}

_READ = sorted(p for p in PERMISSIONS if p.endswith(".read") and p != "sip_secrets.read")

BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "owner": ("Everything in the organization", sorted(PERMISSIONS)),
    "admin": ("Everything but the organization's own settings",
              sorted(p for p in PERMISSIONS if p != "organization.write")),
    "manager": ("Manages users and their phones (within the principal's scope)", sorted({
        "users.read", "users.write", "sip_accounts.read", "sip_accounts.write", "sip_secrets.read",
        "groups.read", "dids.read", "inbound_rules.read", "devices.read", "devices.write",
        "config.read", "organization.read", "roles.read",
    })),
    "user": ("Self-service: one's own profile and SIP account", sorted({
        "users.read", "users.write", "sip_accounts.read", "sip_secrets.read", "organization.read",
    })),
    "readonly": ("Reads everything except secrets", _READ),
}

SCOPE_ORDER = {"own": 0, "groups": 1, "all": 2}
