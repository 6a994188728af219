"""The authorization matrix: who may do what to whom, for every operation of the OpenAPI spec.

``MATRIX`` below is the contract, one row per operation (``"METHOD /path/template"``). A row names the kind of
*target* the operation acts on and gives, for each built-in role, the expected answer for each management
scope and each target. The tests send every row's request, as every role with every scope, at every target,
and compare; an operation of the spec without a row (or a row without an operation) fails too.

How to read a row
-----------------

    "GET /api/v1/users/{user_id}": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", ...)

* The three ``|``-separated groups are the principal's scope: ``own | groups | all``. A string without ``|``
  holds for the three scopes alike.
* Inside a group there is one answer per column of the target kind (``TARGETS``): for ``"user"`` that is
  ``self inside above outside other``. A group of a single answer holds for every column (``"403"`` alone:
  refused whatever the scope and the target).
* An answer is the HTTP status, or, for a list (a ``GET`` whose path does not name the target), ``seen`` (200,
  the target is among the items) or ``hidden`` (200, it is not).
* ``anonymous`` is the same request without any ``Authorization`` header, one answer for every cell.

So the example reads: an owner with scope ``own`` reads itself (200) and nobody else (404); with scope
``groups`` also the users of the group it manages, ``above`` included; with scope ``all`` everyone of its
organization; never a user of another organization.

The targets, as ``World`` builds them for each principal before it acts
-------------------------------------------------------------------------

The principal is a user with the role and scope under test and a SIP account of its own; it is a member and
*manager* of the group "Team" (whatever its scope: only the scope decides whether that counts).

* ``self``    — the principal itself (its user, SIP account, a device on that account, its Team membership);
* ``inside``  — a user of "Team" (the group the principal manages), its SIP account, its device, its
                membership; for groups: "Team" itself;
* ``above``   — also a user of "Team", but with a login stronger than most principals: role owner, scope all
                (not a platform administrator). Nobody manages a login holding rights it lacks;
* ``outside`` — a user of the same organization in the group "Outside", which the principal does not manage
                (its account, device, membership); for groups: "Outside";
* ``other``   — the same kind of object in another organization ("elsewhere"): a 404, never a 403 that
                would tell it exists — unless the principal may not use the operation at all (a 403 sent
                before any lookup, the same for every id);
* ``here``    — an organization-wide object of the principal's organization (custom role, API key, revision,
                DID, inbound rule, office-hours schedule, trunk, outbound route, conference room, IVR menu);
* ``default`` — the organization's ``default`` office-hours schedule (it cannot be deleted);
* ``own``     — for organizations: the principal's own organization;
* ``plain`` / ``secret`` / ``device`` / ``above`` (revision files) — files of the applied revision:
                ``asterisk/extensions.conf`` (no credentials), ``asterisk/pjsip.conf`` (every account's digest),
                the provisioning file of the inside user's device, and of the above user's device (each with
                that account's SIP password in clear).
* ``user_greeting`` — the user of that column and a voicemail greeting uploaded for it.
* ``user_did`` — the user of that column with a number of its organization: a free one to assign, one
                routed to that user to unassign.

Requests are well formed (valid bodies), so an answer reflects the authorization: 2xx when allowed, 403
for a missing permission, a scope too narrow for the operation or a stronger login, 404 for a target out of
scope or in another organization. Requests that use their target up (deletes, claims, membership changes,
URL rotations, new inbound rules) get a fresh target per request, unless the principal is refused whatever the
target (401, 403): then nothing is used up.
"""

from __future__ import annotations

import io
import itertools
import wave
from dataclasses import dataclass, field

import pytest

from app.main import create_app

ROLES = ("owner", "admin", "manager", "user", "readonly")
SCOPES = ("own", "groups", "all")
PRINCIPALS = [f"{role}/{scope}" for role in ROLES for scope in SCOPES] + ["anonymous"]

# The columns of each kind of target, in the order a row's answers give them.
TARGETS: dict[str | None, tuple[str, ...]] = {
    None: ("-",),  # the operation names no target (a create, a login, a probe)
    "user": ("self", "inside", "above", "outside", "other"),
    "account": ("self", "inside", "above", "outside", "other"),  # the SIP account of that user
    "device": ("self", "inside", "above", "outside", "other"),  # a device carrying that user's SIP account
    "member": ("self", "inside", "above", "outside", "other"),  # in Team; Outside; Team elsewhere
    "group": ("inside", "outside", "other"),
    "role": ("here", "other"),  # a custom role
    "api_key": ("here", "other"),
    "organization": ("own", "other"),
    "revision": ("here", "other"),  # an applied configuration revision
    "revision_file": ("plain", "secret", "device", "above", "other"),
    "did": ("here", "other"),  # a number (routed by an inbound rule; a free one for creates and deletes)
    "inbound_rule": ("here", "other"),
    "schedule": ("here", "default", "other"),  # an office-hours schedule; the organization's `default`
    "trunk": ("here", "other"),  # with a username and a password
    "webhook": ("here", "other"),  # a subscription to every event, with one delivery
    "route": ("here", "other"),  # an outbound route
    "conference": ("here", "other"),  # a conference room
    "ivr_menu": ("here", "other"),  # with a greeting
    "user_did": ("self", "inside", "above", "outside", "other"),  # that user, and a number of its organization
    "user_greeting": ("self", "inside", "above", "outside", "other"),  # that user, and a voicemail greeting of it
}


@dataclass(frozen=True)
class Row:
    """The expected answers of one operation (see the module's docstring for the notation)."""

    target: str | None
    owner: str
    admin: str
    manager: str
    user: str
    readonly: str
    anonymous: str = "401"


MATRIX: dict[str, Row] = {
    # --- auth ------------------------------------------------------------------------------------------------
    "POST /api/v1/auth/token": Row(None,  # the principal logs in with its own username and password
        owner="200", admin="200", manager="200", user="200", readonly="200", anonymous="200"),
    "GET /api/v1/auth/me": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200"),

    # --- API keys: organization-wide, for scope 'all' --------------------------------------------------------
    "POST /api/v1/api-keys": Row(None,  # a key with the role readonly and scope own
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    "GET /api/v1/api-keys": Row("api_key",
        owner="403 | 403 | seen hidden",
        admin="403 | 403 | seen hidden",
        manager="403", user="403",
        readonly="403 | 403 | seen hidden"),
    "GET /api/v1/api-keys/{key_id}": Row("api_key",
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403",
        readonly="403 | 403 | 200 404"),
    "DELETE /api/v1/api-keys/{key_id}": Row("api_key",
        owner="403 | 403 | 204 404",
        admin="403 | 403 | 204 404",
        manager="403", user="403", readonly="403"),

    # --- organizations: the platform's tenants are for platform administrators only -------------------------
    "POST /api/v1/organizations": Row(None,
        owner="403", admin="403", manager="403", user="403", readonly="403"),
    "GET /api/v1/organizations": Row(None,
        owner="403", admin="403", manager="403", user="403", readonly="403"),
    "GET /api/v1/organizations/{organization_id}": Row("organization",
        owner="403", admin="403", manager="403", user="403", readonly="403"),
    "PATCH /api/v1/organizations/{organization_id}": Row("organization",
        owner="403", admin="403", manager="403", user="403", readonly="403"),
    "DELETE /api/v1/organizations/{organization_id}": Row("organization",
        owner="403", admin="403", manager="403", user="403", readonly="403"),
    # ... and one's own organization: everybody reads it, only the owner (scope all) changes it.
    "GET /api/v1/organization": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200"),
    "PATCH /api/v1/organization": Row(None,
        owner="403 | 403 | 200",
        admin="403", manager="403", user="403", readonly="403"),

    # --- permissions and roles -------------------------------------------------------------------------------
    "GET /api/v1/permissions": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200"),
    "GET /api/v1/roles": Row("role",
        owner="seen hidden", admin="seen hidden", manager="seen hidden",
        user="403",
        readonly="seen hidden"),
    "POST /api/v1/roles": Row(None,  # a custom role with users.read
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    "GET /api/v1/roles/{role_id}": Row("role",
        owner="200 404", admin="200 404", manager="200 404",
        user="403",
        readonly="200 404"),
    "PATCH /api/v1/roles/{role_id}": Row("role",
        owner="403 404 | 403 404 | 200 404",
        admin="403 404 | 403 404 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/roles/{role_id}": Row("role",
        owner="403 404 | 403 404 | 204 404",
        admin="403 404 | 403 404 | 204 404",
        manager="403", user="403", readonly="403"),

    # --- users: narrowed by scope; nobody manages a login stronger than its own ----------------------------
    "POST /api/v1/users": Row(None,  # into the group Team
        owner="403 | 201 | 201",
        admin="403 | 201 | 201",
        manager="403 | 201 | 201",
        user="403 | 201 | 201",
        readonly="403"),
    #                 own: self inside above outside other | groups: ...            | all: ...
    "GET /api/v1/users": Row("user",
        owner="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        admin="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        manager="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        user="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        readonly="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden"),
    "GET /api/v1/users/{user_id}": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PATCH /api/v1/users/{user_id}": Row("user",  # a new first name
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),
    "POST /api/v1/users/import": Row(None,  # one new user, no extension
        owner="403 | 403 | 200", admin="403 | 403 | 200", manager="403 | 403 | 200", user="403 | 403 | 200",
        readonly="403"),
    "GET /api/v1/users/export": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200"),
    "POST /api/v1/users/bulk-update": Row(None,  # to users at lunch (nobody): scope and authority are in its tests
        owner="200", admin="200", manager="200", user="200", readonly="403"),
    # With an extension ("next"): creating SIP accounts needs scope 'all', as for POST /users.
    "POST /api/v1/users/{user_id}/clone": Row("user",
        owner="403 404 404 404 404 | 403 403 403 404 404 | 201 201 201 201 404",
        admin="403 404 404 404 404 | 403 403 403 404 404 | 201 201 201 201 404",
        manager="403 404 404 404 404 | 403 403 403 404 404 | 201 201 201 201 404",
        user="403 404 404 404 404 | 403 403 403 404 404 | 403 403 403 403 404",  # no sip_accounts.write
        readonly="403"),
    "DELETE /api/v1/users/{user_id}": Row("user",  # nobody deletes itself
        owner="403 404 404 404 404 | 403 403 403 404 404 | 403 204 204 204 404",
        admin="403 404 404 404 404 | 403 403 403 404 404 | 403 204 403 204 404",
        manager="403 404 404 404 404 | 403 403 403 404 404 | 403 204 403 204 404",
        user="403 404 404 404 404 | 403 403 403 404 404 | 403 204 403 204 404",
        readonly="403"),

    # --- a user's call handling: read like the user; changed by the user itself or with authority over it -----
    "GET /api/v1/users/{user_id}/forwarding": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PUT /api/v1/users/{user_id}/forwarding": Row("user",  # every action "end call"
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),
    "GET /api/v1/users/{user_id}/status": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PUT /api/v1/users/{user_id}/status": Row("user",  # away
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),

    # Like a reveal of the SIP password: sip_secrets.read (no readonly) and authority over the user.
    "GET /api/v1/users/{user_id}/sip-credentials": Row("user",
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),
    # The world's users have no e-mail address: 409 is the answer past every check of authority (the sending
    # itself is in test_welcome_email). It needs sip_secrets.read and authority over the user, like a reveal.
    "POST /api/v1/users/{user_id}/welcome-email": Row("user",
        owner="409 404 404 404 404 | 409 409 403 404 404 | 409 409 409 409 404",
        admin="409 404 404 404 404 | 409 409 403 404 404 | 409 409 403 409 404",
        manager="409 404 404 404 404 | 409 409 403 404 404 | 409 409 403 409 404",
        user="409 404 404 404 404 | 409 409 403 404 404 | 409 409 403 409 404",
        readonly="403"),

    # --- voicemail: like call handling; the PIN needs voicemail_pins.read (no manager, no readonly) --------------
    "GET /api/v1/users/{user_id}/voicemail": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PUT /api/v1/users/{user_id}/voicemail": Row("user",  # settings without a PIN
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),
    "GET /api/v1/users/{user_id}/voicemail/pin": Row("user",
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="403",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),
    "POST /api/v1/users/{user_id}/voicemail/greetings": Row("user",
        owner="201 404 404 404 404 | 201 201 403 404 404 | 201 201 201 201 404",
        admin="201 404 404 404 404 | 201 201 403 404 404 | 201 201 403 201 404",
        manager="201 404 404 404 404 | 201 201 403 404 404 | 201 201 403 201 404",
        user="201 404 404 404 404 | 201 201 403 404 404 | 201 201 403 201 404",
        readonly="403"),
    "GET /api/v1/users/{user_id}/voicemail/greetings/{greeting_id}": Row("user_greeting",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "DELETE /api/v1/users/{user_id}/voicemail/greetings/{greeting_id}": Row("user_greeting",
        owner="204 404 404 404 404 | 204 204 403 404 404 | 204 204 204 204 404",
        admin="204 404 404 404 404 | 204 204 403 404 404 | 204 204 403 204 404",
        manager="204 404 404 404 404 | 204 204 403 404 404 | 204 204 403 204 404",
        user="204 404 404 404 404 | 204 204 403 404 404 | 204 204 403 204 404",
        readonly="403"),

    "GET /api/v1/users/{user_id}/keys": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PUT /api/v1/users/{user_id}/keys": Row("user",  # a line key and a pickup key
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),

    # --- options: they restrict the user, so never changed with scope 'own', not even one's own -----------------
    "GET /api/v1/users/{user_id}/options": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404", readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PUT /api/v1/users/{user_id}/options": Row("user",  # external calls disabled
        owner="403 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="403 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="403 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="403 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),

    # --- groups: read by everyone, changed with scope 'all'; memberships narrowed by scope --------------------
    "POST /api/v1/groups": Row(None,
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403 | 403 | 201",
        user="403", readonly="403"),
    #                 inside outside other
    "GET /api/v1/groups": Row("group",
        owner="seen seen hidden", admin="seen seen hidden", manager="seen seen hidden", user="seen seen hidden",
        readonly="seen seen hidden"),
    "GET /api/v1/groups/{group_id}": Row("group",
        owner="200 200 404", admin="200 200 404", manager="200 200 404", user="200 200 404",
        readonly="200 200 404"),
    "PATCH /api/v1/groups/{group_id}": Row("group",  # a new ring timeout
        owner="403 403 404 | 403 403 404 | 200 200 404",
        admin="403 403 404 | 403 403 404 | 200 200 404",
        manager="403 403 404 | 403 403 404 | 200 200 404",
        user="403", readonly="403"),
    "DELETE /api/v1/groups/{group_id}": Row("group",
        owner="403 403 404 | 403 403 404 | 204 204 404",
        admin="403 403 404 | 403 403 404 | 204 204 404",
        manager="403 403 404 | 403 403 404 | 204 204 404",
        user="403", readonly="403"),
    "GET /api/v1/groups/{group_id}/members": Row("group",  # the list itself is narrowed to the scope's users
        owner="200 200 404", admin="200 200 404", manager="200 200 404", user="200 200 404",
        readonly="200 200 404"),
    #                 own: self inside above outside other | groups: ...            | all: ...
    "GET /api/v1/groups/{group_id}/members/{user_id}": Row("member",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    # As a member. A group manager manages members, not managers (itself included); nobody changes the
    # memberships of a stronger login (PATCH /users/{id} {"groups": ...} refuses it too).
    "PUT /api/v1/groups/{group_id}/members/{user_id}": Row("member",
        owner="403 404 404 404 404 | 403 200 403 404 404 | 200 200 200 200 404",
        admin="403 404 404 404 404 | 403 200 403 404 404 | 200 200 403 200 404",
        manager="403 404 404 404 404 | 403 200 403 404 404 | 200 200 403 200 404",
        user="403", readonly="403"),
    "DELETE /api/v1/groups/{group_id}/members/{user_id}": Row("member",
        owner="403 404 404 404 404 | 403 204 403 404 404 | 204 204 204 204 404",
        admin="403 404 404 404 404 | 403 204 403 404 404 | 204 204 403 204 404",
        manager="403 404 404 404 404 | 403 204 403 404 404 | 204 204 403 204 404",
        user="403", readonly="403"),

    # --- SIP accounts: narrowed by their holder; a stronger holder's account is not the principal's to manage -
    "POST /api/v1/sip-accounts": Row(None,  # an unassigned account, lowest free number
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403 | 403 | 201",
        user="403", readonly="403"),
    "GET /api/v1/sip-accounts": Row("account",
        owner="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        admin="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        manager="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        user="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        readonly="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden"),
    "GET /api/v1/sip-accounts/next-free": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200"),
    # For a user without an account (self has one: 409); a user of another organization in a body is a 422.
    "POST /api/v1/sip-accounts/claim": Row("user",
        owner="403 | 403 | 409 200 200 200 422",
        admin="403 | 403 | 409 200 403 200 422",
        manager="403 | 403 | 409 200 403 200 422",
        user="403", readonly="403"),
    #                 own: self inside above outside other | groups: ...            | all: ...
    "GET /api/v1/sip-accounts/{account_id}": Row("account",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PATCH /api/v1/sip-accounts/{account_id}": Row("account",  # max_contacts, which scope 'own' may change
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="403", readonly="403"),
    "DELETE /api/v1/sip-accounts/{account_id}": Row("account",
        owner="403 404 404 404 404 | 403 403 403 404 404 | 204 204 204 204 404",
        admin="403 404 404 404 404 | 403 403 403 404 404 | 204 204 403 204 404",
        manager="403 404 404 404 404 | 403 403 403 404 404 | 204 204 403 204 404",
        user="403", readonly="403"),
    "POST /api/v1/sip-accounts/{account_id}/password": Row("account",
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="403", readonly="403"),
    "GET /api/v1/sip-accounts/{account_id}/secret": Row("account",
        owner="200 404 404 404 404 | 200 200 403 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        manager="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        user="200 404 404 404 404 | 200 200 403 404 404 | 200 200 403 200 404",
        readonly="403"),

    # --- devices: narrowed by the holder of their SIP account; changed with scope 'all'; what puts a SIP
    #     password into a file (linking, a new URL) needs the authority to reveal it -------------------------
    # A softphone carrying the target's account (an account of another organization in a body is a 422).
    "POST /api/v1/devices": Row("account",
        owner="403 | 403 | 201 201 201 201 422",
        admin="403 | 403 | 201 201 403 201 422",
        manager="403 | 403 | 201 201 403 201 422",
        user="403", readonly="403"),
    #                 own: self inside above outside other | groups: ...            | all: ...
    "GET /api/v1/devices": Row("device",
        owner="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        admin="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        manager="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden",
        user="403",
        readonly="seen hidden hidden hidden hidden | seen seen seen hidden hidden | seen seen seen seen hidden"),
    "GET /api/v1/devices/{device_id}": Row("device",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="403",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    "PATCH /api/v1/devices/{device_id}": Row("device",  # a new label (no secret moves)
        owner="403 404 404 404 404 | 403 403 403 404 404 | 200 200 200 200 404",
        admin="403 404 404 404 404 | 403 403 403 404 404 | 200 200 200 200 404",
        manager="403 404 404 404 404 | 403 403 403 404 404 | 200 200 200 200 404",
        user="403", readonly="403"),
    "DELETE /api/v1/devices/{device_id}": Row("device",
        owner="403 404 404 404 404 | 403 403 403 404 404 | 204 204 204 204 404",
        admin="403 404 404 404 404 | 403 403 403 404 404 | 204 204 204 204 404",
        manager="403 404 404 404 404 | 403 403 403 404 404 | 204 204 204 204 404",
        user="403", readonly="403"),
    "POST /api/v1/devices/{device_id}/provisioning-url": Row("device",
        owner="403 404 404 404 404 | 403 403 403 404 404 | 200 200 200 200 404",
        admin="403 404 404 404 404 | 403 403 403 404 404 | 200 200 403 200 404",
        manager="403 404 404 404 404 | 403 403 403 404 404 | 200 200 403 200 404",
        user="403", readonly="403"),
    # The file is fetched with the secret URL alone: whoever holds it gets the file, credentials or none.
    "GET /provisioning/{token}/{filename}": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200", anonymous="200"),

    # --- DIDs: the organization's numbers, read with dids.read, changed with scope 'all' ---------------------
    "POST /api/v1/dids": Row(None,  # a new number into the free pool
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    #                 here other
    "GET /api/v1/dids": Row("did",
        owner="seen hidden", admin="seen hidden", manager="seen hidden",
        user="403",
        readonly="seen hidden"),
    "GET /api/v1/dids/{did_id}": Row("did",
        owner="200 404", admin="200 404", manager="200 404",
        user="403",
        readonly="200 404"),
    "PATCH /api/v1/dids/{did_id}": Row("did",  # a new description
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/dids/{did_id}": Row("did",  # a number of the free pool
        owner="403 | 403 | 204 404",
        admin="403 | 403 | 204 404",
        manager="403", user="403", readonly="403"),
    # A user's numbers: narrowed by scope like the user itself.
    #                 own: self inside above outside other | groups: ...            | all: ...
    "GET /api/v1/users/{user_id}/dids": Row("user",
        owner="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        admin="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        manager="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404",
        user="403",
        readonly="200 404 404 404 404 | 200 200 200 404 404 | 200 200 200 200 404"),
    # Assigning writes the number's inbound rule (dids.write, inbound_rules.write, scope 'all'). It routes calls
    # to the user and changes nothing of its login and moves no secret: the above user is no exception (as any
    # inbound rule may ring it). A user of another organization is a 404, as a number of another one would be.
    "PUT /api/v1/users/{user_id}/dids/{did_id}": Row("user_did",  # a number of the free pool
        owner="403 | 403 | 200 200 200 200 404",
        admin="403 | 403 | 200 200 200 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/users/{user_id}/dids/{did_id}": Row("user_did",  # a number ringing that user
        owner="403 | 403 | 204 204 204 204 404",
        admin="403 | 403 | 204 204 204 204 404",
        manager="403", user="403", readonly="403"),

    # --- inbound rules: they say who gets the company's calls: scope 'all', even to read ---------------------
    # For a free number of the organization (a number of another organization in the body is a 422).
    "POST /api/v1/inbound-rules": Row("did",
        owner="403 | 403 | 201 422",
        admin="403 | 403 | 201 422",
        manager="403", user="403", readonly="403"),
    #                 here other
    "GET /api/v1/inbound-rules": Row("inbound_rule",
        owner="403 | 403 | seen hidden",
        admin="403 | 403 | seen hidden",
        manager="403 | 403 | seen hidden",
        user="403",
        readonly="403 | 403 | seen hidden"),
    "GET /api/v1/inbound-rules/{rule_id}": Row("inbound_rule",
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403 | 403 | 200 404",
        user="403",
        readonly="403 | 403 | 200 404"),
    "PATCH /api/v1/inbound-rules/{rule_id}": Row("inbound_rule",  # a new name
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/inbound-rules/{rule_id}": Row("inbound_rule",
        owner="403 | 403 | 204 404",
        admin="403 | 403 | 204 404",
        manager="403", user="403", readonly="403"),

    # --- office hours: read with office_hours.read, changed with scope 'all' (the service checks the scope
    #     after the lookup: another organization's schedule is a 404 first); `default` is never deleted --------
    "POST /api/v1/office-hours": Row(None,
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    #                 here default other
    "GET /api/v1/office-hours": Row("schedule",
        owner="seen seen hidden", admin="seen seen hidden", manager="seen seen hidden",
        user="403",
        readonly="seen seen hidden"),
    "GET /api/v1/office-hours/{schedule_id}": Row("schedule",
        owner="200 200 404", admin="200 200 404", manager="200 200 404",
        user="403",
        readonly="200 200 404"),
    "GET /api/v1/office-hours/{schedule_id}/state": Row("schedule",
        owner="200 200 404", admin="200 200 404", manager="200 200 404",
        user="403",
        readonly="200 200 404"),
    "PATCH /api/v1/office-hours/{schedule_id}": Row("schedule",  # a new time zone
        owner="403 403 404 | 403 403 404 | 200 200 404",
        admin="403 403 404 | 403 403 404 | 200 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/office-hours/{schedule_id}": Row("schedule",
        owner="403 403 404 | 403 403 404 | 204 409 404",
        admin="403 403 404 | 403 403 404 | 204 409 404",
        manager="403", user="403", readonly="403"),

    # --- conference rooms and IVR menus: read with their .read permission, changed with scope 'all' (the
    #     services check the scope after the lookup: another organization's is a 404 first) --------------------
    "POST /api/v1/conferences": Row(None,  # a room with a PIN
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    #                 here other
    "GET /api/v1/conferences": Row("conference",
        owner="seen hidden", admin="seen hidden", manager="seen hidden",
        user="403",
        readonly="seen hidden"),
    "GET /api/v1/conferences/{conference_id}": Row("conference",
        owner="200 404", admin="200 404", manager="200 404",
        user="403",
        readonly="200 404"),
    "PATCH /api/v1/conferences/{conference_id}": Row("conference",  # a new size
        owner="403 404 | 403 404 | 200 404",
        admin="403 404 | 403 404 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/conferences/{conference_id}": Row("conference",
        owner="403 404 | 403 404 | 204 404",
        admin="403 404 | 403 404 | 204 404",
        manager="403", user="403", readonly="403"),
    "POST /api/v1/ivr-menus": Row(None,  # key 1 hangs up
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    #                 here other (a menu with a greeting)
    "GET /api/v1/ivr-menus": Row("ivr_menu",
        owner="seen hidden", admin="seen hidden", manager="seen hidden",
        user="403",
        readonly="seen hidden"),
    "GET /api/v1/ivr-menus/{menu_id}": Row("ivr_menu",
        owner="200 404", admin="200 404", manager="200 404",
        user="403",
        readonly="200 404"),
    "PATCH /api/v1/ivr-menus/{menu_id}": Row("ivr_menu",  # a new timeout
        owner="403 404 | 403 404 | 200 404",
        admin="403 404 | 403 404 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/ivr-menus/{menu_id}": Row("ivr_menu",
        owner="403 404 | 403 404 | 204 404",
        admin="403 404 | 403 404 | 204 404",
        manager="403", user="403", readonly="403"),
    # The greeting also needs prompts.read (prompts.write to change it).
    "GET /api/v1/ivr-menus/{menu_id}/greeting": Row("ivr_menu",
        owner="200 404", admin="200 404", manager="200 404",
        user="403",
        readonly="200 404"),
    "PUT /api/v1/ivr-menus/{menu_id}/greeting": Row("ivr_menu",  # a new WAV file replaces the greeting
        owner="403 404 | 403 404 | 200 404",
        admin="403 404 | 403 404 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/ivr-menus/{menu_id}/greeting": Row("ivr_menu",
        owner="403 404 | 403 404 | 204 404",
        admin="403 404 | 403 404 | 204 404",
        manager="403", user="403", readonly="403"),

    # --- trunks: read with trunks.read, changed with scope 'all'; the password is an organization-wide
    #     credential (calls billed to the organization): revealing it needs trunk_secrets.read and scope 'all',
    #     as nobody reveals what it may not even change ---------------------------------------------------------
    "POST /api/v1/trunks": Row(None,
        owner="403 | 403 | 201",
        admin="403 | 403 | 201",
        manager="403", user="403", readonly="403"),
    #                 here other
    "GET /api/v1/trunks": Row("trunk",
        owner="seen hidden", admin="seen hidden",
        manager="403", user="403",
        readonly="seen hidden"),
    "GET /api/v1/trunks/{trunk_id}": Row("trunk",
        owner="200 404", admin="200 404",
        manager="403", user="403",
        readonly="200 404"),
    "PATCH /api/v1/trunks/{trunk_id}": Row("trunk",  # a channel limit
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/trunks/{trunk_id}": Row("trunk",  # a trunk no route uses
        owner="403 | 403 | 204 404",
        admin="403 | 403 | 204 404",
        manager="403", user="403", readonly="403"),
    "GET /api/v1/trunks/{trunk_id}/secret": Row("trunk",
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403", readonly="403"),

    # --- webhooks: organization-wide, scope 'all' even to read (subscriptions see every change) -----------------
    "POST /api/v1/webhooks": Row(None,
        owner="403 | 403 | 201", admin="403 | 403 | 201", manager="403", user="403", readonly="403"),
    "GET /api/v1/webhooks/events": Row(None,
        owner="403 | 403 | 200", admin="403 | 403 | 200", manager="403", user="403", readonly="403 | 403 | 200"),
    "GET /api/v1/webhooks": Row("webhook",
        owner="403 | 403 | seen hidden", admin="403 | 403 | seen hidden", manager="403", user="403",
        readonly="403 | 403 | seen hidden"),
    "GET /api/v1/webhooks/{webhook_id}": Row("webhook",
        owner="403 | 403 | 200 404", admin="403 | 403 | 200 404", manager="403", user="403",
        readonly="403 | 403 | 200 404"),
    "PATCH /api/v1/webhooks/{webhook_id}": Row("webhook",
        owner="403 | 403 | 200 404", admin="403 | 403 | 200 404", manager="403", user="403", readonly="403"),
    "DELETE /api/v1/webhooks/{webhook_id}": Row("webhook",
        owner="403 | 403 | 204 404", admin="403 | 403 | 204 404", manager="403", user="403", readonly="403"),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": Row("webhook",
        owner="403 | 403 | 200 404", admin="403 | 403 | 200 404", manager="403", user="403",
        readonly="403 | 403 | 200 404"),
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": Row("webhook",
        owner="403 | 403 | 202 404", admin="403 | 403 | 202 404", manager="403", user="403", readonly="403"),

    # --- outbound routes: read with outbound_routes.read, changed with scope 'all' ----------------------------
    # Through the target trunk (a trunk of another organization in the body is a 422).
    "POST /api/v1/outbound-routes": Row("trunk",
        owner="403 | 403 | 201 422",
        admin="403 | 403 | 201 422",
        manager="403", user="403", readonly="403"),
    #                 here other
    "GET /api/v1/outbound-routes": Row("route",
        owner="seen hidden", admin="seen hidden",
        manager="403", user="403",
        readonly="seen hidden"),
    "GET /api/v1/outbound-routes/{route_id}": Row("route",
        owner="200 404", admin="200 404",
        manager="403", user="403",
        readonly="200 404"),
    "PATCH /api/v1/outbound-routes/{route_id}": Row("route",  # a new priority
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403", readonly="403"),
    "DELETE /api/v1/outbound-routes/{route_id}": Row("route",
        owner="403 | 403 | 204 404",
        admin="403 | 403 | 204 404",
        manager="403", user="403", readonly="403"),

    # --- configuration: status for readers; revisions (they list every extension) for scope 'all' ------------
    "GET /api/v1/config/status": Row(None,
        owner="200", admin="200", manager="200", user="403", readonly="200"),
    "POST /api/v1/config/apply": Row(None,  # a dry run
        owner="403 | 403 | 200",
        admin="403 | 403 | 200",
        manager="403", user="403", readonly="403"),
    "GET /api/v1/config/revisions": Row(None,
        owner="403 | 403 | 200",
        admin="403 | 403 | 200",
        manager="403 | 403 | 200",
        user="403",
        readonly="403 | 403 | 200"),
    "GET /api/v1/config/revisions/{number}": Row("revision",
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403 | 403 | 200 404",
        user="403",
        readonly="403 | 403 | 200 404"),
    # plain secret device above other: a file with credentials is a reveal of every one of them: it needs
    # sip_secrets.read and the authority over their holders (pjsip.conf holds the digest of every account,
    # the above user's included; a device's file holds its account's password in clear).
    "GET /api/v1/config/revisions/{number}/files/{path}": Row("revision_file",
        owner="403 | 403 | 200 200 200 200 404",
        admin="403 | 403 | 200 403 200 403 404",
        manager="403 | 403 | 200 403 200 403 404",
        user="403",
        readonly="403 | 403 | 200 403 403 403 404"),
    "GET /api/v1/config/revisions/{base}/diff/{other}": Row("revision",  # a revision against itself
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403 | 403 | 200 404",
        user="403",
        readonly="403 | 403 | 200 404"),
    "POST /api/v1/config/revisions/{number}/restore": Row("revision",
        owner="403 | 403 | 200 404",
        admin="403 | 403 | 200 404",
        manager="403", user="403", readonly="403"),

    # --- audit log and probes --------------------------------------------------------------------------------
    "GET /api/v1/audit-log": Row(None,
        owner="403 | 403 | 200",
        admin="403 | 403 | 200",
        manager="403", user="403",
        readonly="403 | 403 | 200"),
    "GET /healthz": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200", anonymous="200"),
    "GET /readyz": Row(None,
        owner="200", admin="200", manager="200", user="200", readonly="200", anonymous="200"),
    "GET /metrics": Row(None,  # open unless CENTRALINO_METRICS_TOKEN is set (test_metrics_and_logs)
        owner="200", admin="200", manager="200", user="200", readonly="200", anonymous="200"),
}


# ==============================================================================================================
# Reading the table
# ==============================================================================================================

LIST_ANSWERS = {"seen", "hidden"}


def expected(operation: str, who: str) -> dict[str, str]:
    """The answers of ``operation`` for ``who`` ("role/scope" or "anonymous"), by target column."""
    row = MATRIX[operation]
    columns = TARGETS[row.target]
    if who == "anonymous":
        return dict.fromkeys(columns, row.anonymous)
    role, scope = who.split("/")
    groups = [group.split() for group in getattr(row, role).split("|")]
    if len(groups) == 1:
        groups = groups * len(SCOPES)
    assert len(groups) == len(SCOPES), f"{operation}, {role}: give one group, or one per scope (own | groups | all)"
    answers = groups[SCOPES.index(scope)]
    if len(answers) == 1:
        answers = answers * len(columns)
    assert len(answers) == len(columns), f"{operation}, {who}: {len(columns)} answers expected ({' '.join(columns)})"
    return dict(zip(columns, answers, strict=True))


def is_list(operation: str) -> bool:
    """A GET whose path does not name its target: its answer tells whether the target is among the items."""
    method, path = operation.split(" ", 1)
    return method == "GET" and MATRIX[operation].target is not None and not any(
        f"{{{name}}}" in path for name in PATH_PARAMETERS[MATRIX[operation].target])


def spec_operations(spec: dict) -> set[str]:
    return {f"{method.upper()} {path}" for path, operations in spec["paths"].items() for method in operations}


# ==============================================================================================================
# The table's own shape, and the spec's coverage
# ==============================================================================================================

def test_every_operation_of_the_spec_has_a_row_and_every_row_an_operation(settings):
    # The spec of the app as it is now (tests/contract keeps openapi/openapi.json equal to it).
    served = spec_operations(create_app(settings).openapi())

    assert sorted(served - MATRIX.keys()) == [], "operations without a row in MATRIX"
    assert sorted(MATRIX.keys() - served) == [], "rows of MATRIX naming no operation the app serves"


@pytest.mark.parametrize("operation", sorted(MATRIX))
def test_every_row_gives_one_answer_per_principal_scope_and_target(operation):
    row = MATRIX[operation]
    assert row.target in TARGETS, f"unknown target kind {row.target!r}"
    for who in PRINCIPALS:
        for column, answer in expected(operation, who).items():
            allowed = LIST_ANSWERS if is_list(operation) and answer not in {"401", "403"} else None
            if allowed:
                assert answer in allowed, f"{who} on {column}: a list answers seen or hidden, not {answer!r}"
            else:
                assert answer.isdigit() and 200 <= int(answer) < 600, f"{who} on {column}: {answer!r} is no status"


# ==============================================================================================================
# Sending every row's request
# ==============================================================================================================

GROUPS = "/api/v1/groups"
ACCOUNTS = "/api/v1/sip-accounts"
DEVICES = "/api/v1/devices"
DIDS = "/api/v1/dids"
INBOUND_RULES = "/api/v1/inbound-rules"
SCHEDULES = "/api/v1/office-hours"
TRUNKS = "/api/v1/trunks"
WEBHOOKS = "/api/v1/webhooks"
WEBHOOK_URL = "https://93.184.215.14/hook"  # a public address, no DNS needed (nothing is sent: no worker runs)
ROUTES = "/api/v1/outbound-routes"
CONFERENCES = "/api/v1/conferences"
IVR_MENUS = "/api/v1/ivr-menus"
ELSEWHERE = "elsewhere"
PASSWORD = "Password-123"  # what conftest's Api.user_with_role gives its users
PLAIN_FILE, SECRET_FILE = "asterisk/extensions.conf", "asterisk/pjsip.conf"

# What a target fills in the path (a target of another kind, in a body, is read by BODIES).
PATH_PARAMETERS: dict[str | None, tuple[str, ...]] = {
    None: (), "user": ("user_id",), "account": ("account_id",), "device": ("device_id",),
    "member": ("group_id", "user_id"), "group": ("group_id",), "role": ("role_id",), "api_key": ("key_id",),
    "organization": ("organization_id",), "revision": ("number", "base", "other"), "revision_file": ("number", "path"),
    "did": ("did_id",), "inbound_rule": ("rule_id",), "schedule": ("schedule_id",), "trunk": ("trunk_id",),
    "route": ("route_id",), "user_did": ("user_id", "did_id"), "webhook": ("webhook_id", "delivery_id"),
    "user_greeting": ("user_id", "greeting_id"), "conference": ("conference_id",),
    "ivr_menu": ("menu_id",),
}

# Requests that use their target up (or change what the principal is): each gets a fresh target.
CONSUMING = {operation for operation in MATRIX if operation.startswith("DELETE ")} | {
    "POST /api/v1/sip-accounts/claim",
    "POST /api/v1/devices/{device_id}/provisioning-url",
    "PUT /api/v1/groups/{group_id}/members/{user_id}",
    "POST /api/v1/inbound-rules",  # a free number each
}

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


_numbers = itertools.count(1_000_000)


def greeting_wav() -> bytes:
    """A short real WAV file (a tenth of a second of silence, as stored: 16-bit PCM, mono, 8 kHz)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 800)
    return buffer.getvalue()


@dataclass(frozen=True)
class Upload:
    """A request body sent as it is (not JSON)."""

    content: bytes
    content_type: str


_END = {"type": "hangup"}
_RING_THEN_END = {"no_answer_seconds": 20, "no_answer": _END, "busy": _END, "not_registered": _END}
END_EVERY_CALL = {  # forwarding rules that suit any user (3CX's quick set-up: "end call" on every status)
    **{status: {"internal": _RING_THEN_END, "external": _RING_THEN_END} for status in ("available", "lunch")},
    **{status: {"internal": {"action": _END}, "external": {"action": _END}} for status in ("away", "dnd",
                                                                                          "business_trip")},
}


def new_number() -> str:
    """A valid number no other request of the run uses (DIDs are unique across organizations): Warsaw's +48 22."""
    return f"+4822{next(_numbers):07d}"


# The body of every POST, PUT and PATCH, made from its target (None: no body). An operation missing here fails.
BODIES = {
    "POST /api/v1/api-keys": lambda target: {"name": unique("key"), "role": "readonly", "scope": "own"},
    "POST /api/v1/organizations": lambda target: {
        "name": "Another", "slug": (slug := unique("org")), "sip_domain": f"{slug}.example.com"},
    "PATCH /api/v1/organizations/{organization_id}": lambda target: {"ring_timeout": 25},
    "PATCH /api/v1/organization": lambda target: {"ring_timeout": 25},
    "POST /api/v1/roles": lambda target: {"name": unique("role"), "permissions": ["users.read"]},
    "PATCH /api/v1/roles/{role_id}": lambda target: {"description": "Changed"},
    "POST /api/v1/users": lambda target: {"first_name": "Newcomer", "groups": ["Team"]},
    "PATCH /api/v1/users/{user_id}": lambda target: {"first_name": "Renamed"},
    "PUT /api/v1/users/{user_id}/forwarding": lambda target: END_EVERY_CALL,
    "PUT /api/v1/users/{user_id}/status": lambda target: {"status": "away"},
    "POST /api/v1/users/{user_id}/clone": lambda target: {"first_name": "Clone"},
    "POST /api/v1/users/{user_id}/welcome-email": None,
    "POST /api/v1/users/import": lambda target: Upload(
        f"email,first_name\r\n{unique('imported')}@example.com,Imported\r\n".encode(), "text/csv"),
    "POST /api/v1/users/bulk-update": lambda target: {"filter": {"status": "lunch"}, "changes": {"language": "it"}},
    "PUT /api/v1/users/{user_id}/keys": lambda target: {"count": 2, "keys": [{"index": 1, "type": "line"},
                                                                             {"index": 2, "type": "pickup"}]},
    "PUT /api/v1/users/{user_id}/options": lambda target: {"external_calls_disabled": True},
    "PUT /api/v1/users/{user_id}/voicemail": lambda target: {"enabled": True, "email_notification": "notify"},
    "POST /api/v1/users/{user_id}/voicemail/greetings": lambda target: Upload(greeting_wav(), "audio/wav"),
    "POST /api/v1/groups": lambda target: {"name": unique("Group")},
    "PATCH /api/v1/groups/{group_id}": lambda target: {"ring_timeout": 25},
    "PUT /api/v1/groups/{group_id}/members/{user_id}": lambda target: {"role": "member"},
    "POST /api/v1/sip-accounts": lambda target: {},
    "POST /api/v1/sip-accounts/claim": lambda target: {"user_id": target["user_id"]},
    "PATCH /api/v1/sip-accounts/{account_id}": lambda target: {"max_contacts": 2},
    "POST /api/v1/sip-accounts/{account_id}/password": lambda target: {},
    "POST /api/v1/devices": lambda target: {"vendor": "baresip", "sip_account_id": target["account_id"]},
    "PATCH /api/v1/devices/{device_id}": lambda target: {"label": "Desk"},
    "POST /api/v1/devices/{device_id}/provisioning-url": None,
    "POST /api/v1/dids": lambda target: {"number": new_number()},
    "PATCH /api/v1/dids/{did_id}": lambda target: {"description": "Changed"},
    "PUT /api/v1/users/{user_id}/dids/{did_id}": None,
    "POST /api/v1/inbound-rules": lambda target: {"name": unique("Rule"), "did_id": target["did_id"],
                                                  "destination": {"type": "hangup"}},
    "PATCH /api/v1/inbound-rules/{rule_id}": lambda target: {"name": unique("Renamed")},
    "POST /api/v1/office-hours": lambda target: {
        "name": unique("Hours"), "weekly": [{"day": "monday", "start": "09:00", "end": "17:00"}]},
    "PATCH /api/v1/office-hours/{schedule_id}": lambda target: {"timezone": "Europe/Rome"},
    "POST /api/v1/trunks": lambda target: {"name": unique("carrier"), "host": "sip.carrier.example"},
    "PATCH /api/v1/trunks/{trunk_id}": lambda target: {"max_channels": 10},
    "POST /api/v1/webhooks": lambda target: {"url": WEBHOOK_URL, "events": ["*"]},
    "PATCH /api/v1/webhooks/{webhook_id}": lambda target: {"description": "CRM"},
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": None,
    "POST /api/v1/outbound-routes": lambda target: {"name": unique("Route"), "patterns": ["_0X."],
                                                    "trunks": [target["trunk_id"]]},
    "PATCH /api/v1/outbound-routes/{route_id}": lambda target: {"priority": 50},
    "POST /api/v1/conferences": lambda target: {"name": unique("Room"), "pin": "4711"},
    "PATCH /api/v1/conferences/{conference_id}": lambda target: {"max_members": 20},
    "POST /api/v1/ivr-menus": lambda target: {"name": unique("Menu"), "options": {"1": {"type": "hangup"}}},
    "PATCH /api/v1/ivr-menus/{menu_id}": lambda target: {"timeout_seconds": 8},
    "PUT /api/v1/ivr-menus/{menu_id}/greeting": lambda target: Upload(greeting_wav(), "audio/wav"),
    "POST /api/v1/config/apply": lambda target: {"dry_run": True},
    "POST /api/v1/config/revisions/{number}/restore": None,
}


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


@dataclass
class World:
    """One organization as the bootstrap owner sets it up for a principal, and another organization."""

    api: object
    role: str
    scope: str
    principal: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)  # inside (Team), outside (Outside), other (Team elsewhere)
    users: dict = field(default_factory=dict)  # self, inside, above, outside, other
    devices: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)  # here, other
    api_keys: dict = field(default_factory=dict)
    organizations: dict = field(default_factory=dict)  # own, other
    revisions: dict = field(default_factory=dict)  # here, other
    provisioning: dict = field(default_factory=dict)  # token, filename of the inside device
    files: dict = field(default_factory=dict)  # plain, secret, device, above: paths in revision 1
    dids: dict = field(default_factory=dict)  # here, other: routed numbers (by the inbound rules below)
    inbound_rules: dict = field(default_factory=dict)  # here, other
    schedules: dict = field(default_factory=dict)  # here, default, other
    trunks: dict = field(default_factory=dict)  # here, other
    webhooks: dict = field(default_factory=dict)  # here, other: {"webhook_id", "delivery_id"}
    routes: dict = field(default_factory=dict)  # here, other
    free_dids: dict = field(default_factory=dict)  # self ... other: a free number of the user's organization, lazily
    conferences: dict = field(default_factory=dict)  # here, other
    ivr_menus: dict = field(default_factory=dict)  # here, other: with a greeting

    @property
    def owner(self) -> dict:
        return self.api.headers

    @property
    def elsewhere(self) -> dict:
        return {**self.api.headers, "X-Organization": ELSEWHERE}

    def _headers_for(self, column: str) -> dict:
        return self.elsewhere if column == "other" else self.owner

    async def build(self) -> World:
        api = self.api
        other_org = _ok(await api.post("/api/v1/organizations", json={
            "name": "Elsewhere", "slug": ELSEWHERE, "sip_domain": "elsewhere.example.com"}))
        own_org = _ok(await api.get("/api/v1/organization"), 200)
        self.organizations = {"own": own_org["id"], "other": other_org["id"]}
        self.groups = {"inside": _ok(await api.post(GROUPS, json={"name": "Team"})),
                       "outside": _ok(await api.post(GROUPS, json={"name": "Outside"})),
                       "other": _ok(await api.post(GROUPS, json={"name": "Team"}, headers=self.elsewhere))}
        self.principal, self.headers = await api.user_with_role(self.role, self.scope, extension="next")
        await self._make_manager(self.groups["inside"]["id"])
        self.users = {"self": self.principal,
                      "inside": await self._new_user("inside", extension="next"),
                      "above": await self._new_user("above", extension="next"),
                      "outside": await self._new_user("outside", extension="next"),
                      "other": await self._new_user("other", extension="next")}
        for column, user in self.users.items():
            self.devices[column] = await self._new_device(column, user["sip_account"]["id"])
        inside_device = self.devices["inside"]
        self.provisioning = {"token": inside_device["provisioning_url"].rstrip("/").rsplit("/", 1)[1],
                             "filename": inside_device["provisioning_filename"]}
        self.roles = {column: await self._new_role(column) for column in ("here", "other")}
        self.api_keys = {column: await self._new_api_key(column) for column in ("here", "other")}
        for extension in (990, 991, 992):  # the pool claims take from (above what "next" hands out)
            _ok(await api.post(ACCOUNTS, json={"extension": extension}))
        # One revision here; three elsewhere, so that "other" names a number this organization never reaches.
        here = _ok(await api.post("/api/v1/config/apply", json={}), 200)
        for _ in range(3):
            await self._new_user("other", extension="next")
            there = _ok(await api.post("/api/v1/config/apply", json={}, headers=self.elsewhere), 200)
        self.revisions = {"here": here["revision"], "other": there["revision"]}
        assert (self.revisions["here"], self.revisions["other"]) == (1, 3)
        files = _ok(await api.get(f"/api/v1/config/revisions/{here['revision']}"), 200)["files"]
        assert {PLAIN_FILE, SECRET_FILE} <= files.keys(), sorted(files)
        self.files = {"plain": PLAIN_FILE, "secret": SECRET_FILE}
        for column, device in (("device", self.devices["inside"]), ("above", self.devices["above"])):
            [self.files[column]] = [path for path in files if path.startswith("provisioning/") and device["id"] in path]
        # Numbers, their rules, schedules, trunks and routes (after the revisions, which need not hold them).
        for column in ("here", "other"):
            self.inbound_rules[column] = await self._new_inbound_rule(column)
            self.dids[column] = {"id": self.inbound_rules[column]["did_id"]}
            self.schedules[column] = await self._new_schedule(column)
            self.trunks[column] = await self._new_trunk(column)
            self.webhooks[column] = await self._new_webhook(column)
            self.routes[column] = await self._new_route(column)
            self.conferences[column] = await self._new_conference(column)
            self.ivr_menus[column] = await self._new_ivr_menu(column)
        listed = _ok(await api.get(SCHEDULES, params={"q": "default"}), 200)["items"]
        [self.schedules["default"]] = [schedule for schedule in listed if schedule["is_default"]]
        return self

    # --- making targets --------------------------------------------------------------------------------------

    async def _make_manager(self, group_id: str) -> None:
        response = await self.api.put(f"{GROUPS}/{group_id}/members/{self.principal['id']}", json={"role": "manager"})
        assert response.status_code in (200, 201), response.text

    async def _new_user(self, column: str, **fields) -> dict:
        group = {"inside": "Team", "above": "Team", "outside": "Outside", "other": "Team"}[column]
        if column == "above":
            fields["access"] = {"username": unique("above"), "password": PASSWORD, "role": "owner", "scope": "all"}
        return await self.api.create_user(headers=self._headers_for(column), first_name=column.title(),
                                          groups=[group], **fields)

    async def _new_device(self, column: str, account_id: str) -> dict:
        return _ok(await self.api.post(DEVICES, json={"vendor": "baresip", "sip_account_id": account_id},
                                       headers=self._headers_for(column)))

    async def _new_role(self, column: str) -> dict:
        body = {"name": unique("helpdesk"), "permissions": ["users.read"]}
        return _ok(await self.api.post("/api/v1/roles", json=body, headers=self._headers_for(column)))

    async def _new_api_key(self, column: str) -> dict:
        return _ok(await self.api.post("/api/v1/api-keys", json={"name": unique("CRM"), "role": "readonly"},
                                       headers=self._headers_for(column)))

    async def _new_did(self, column: str) -> dict:
        return _ok(await self.api.post(DIDS, json={"number": new_number()}, headers=self._headers_for(column)))

    async def _new_inbound_rule(self, column: str) -> dict:
        did = await self._new_did(column)
        body = {"name": unique("Main"), "did_id": did["id"], "destination": {"type": "hangup"}}
        return _ok(await self.api.post(INBOUND_RULES, json=body, headers=self._headers_for(column)))

    async def _new_schedule(self, column: str) -> dict:
        body = {"name": unique("Support"), "weekly": [{"day": "friday", "start": "08:00", "end": "12:00"}]}
        return _ok(await self.api.post(SCHEDULES, json=body, headers=self._headers_for(column)))

    async def _new_trunk(self, column: str) -> dict:
        body = {"name": unique("telco"), "host": "sip.carrier.example", "username": "4822100200",
                "password": "s3cret-Line"}
        return _ok(await self.api.post(TRUNKS, json=body, headers=self._headers_for(column)))

    async def _new_webhook(self, column: str) -> dict:
        """A subscription to every event, and a change (a new group) so that it has a delivery."""
        headers = self._headers_for(column)
        hook = _ok(await self.api.post(WEBHOOKS, json={"url": WEBHOOK_URL, "events": ["*"]}, headers=headers))
        _ok(await self.api.post(GROUPS, json={"name": unique("Hooked")}, headers=headers))
        deliveries = _ok(await self.api.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=headers), 200)
        return {"webhook_id": hook["id"], "delivery_id": deliveries["items"][0]["id"], "id": hook["id"]}

    async def _new_route(self, column: str) -> dict:
        body = {"name": unique("National"), "patterns": ["_0X."], "trunks": [self.trunks[column]["id"]]}
        return _ok(await self.api.post(ROUTES, json=body, headers=self._headers_for(column)))

    async def _new_conference(self, column: str) -> dict:
        body = {"name": unique("Standup"), "pin": "4711"}
        return _ok(await self.api.post(CONFERENCES, json=body, headers=self._headers_for(column)))

    async def _new_ivr_menu(self, column: str) -> dict:
        headers = self._headers_for(column)
        menu = _ok(await self.api.post(IVR_MENUS, json={"name": unique("Welcome")}, headers=headers))
        _ok(await self.api.put(f"{IVR_MENUS}/{menu['id']}/greeting", content=greeting_wav(),
                               headers={**headers, "Content-Type": "audio/wav"}))
        return menu

    async def _own_account(self) -> str:
        """The principal's SIP account; a new one if a delete took it."""
        listed = _ok(await self.api.get(ACCOUNTS, params={"user_id": self.principal["id"]}), 200)
        if listed["items"]:
            return listed["items"][0]["id"]
        return _ok(await self.api.post(ACCOUNTS, json={"user_id": self.principal["id"]}))["id"]

    async def target(self, kind: str | None, column: str, fresh: bool) -> dict:
        """The path parameters (and ``id``) of the target in ``column``; a new one when ``fresh``."""
        if kind is None:
            return {}
        if kind == "user":
            user = self.users[column] if column == "self" or not fresh else await self._new_user(column)
            return {"user_id": user["id"], "id": user["id"]}
        if kind == "account":
            if column == "self":
                account_id = await self._own_account()
            elif fresh:
                account_id = (await self._new_user(column, extension="next"))["sip_account"]["id"]
            else:
                account_id = self.users[column]["sip_account"]["id"]
            return {"account_id": account_id, "id": account_id}
        if kind == "device":
            if fresh:
                account_id = (await self._own_account() if column == "self"
                              else self.users[column]["sip_account"]["id"])
                device_id = (await self._new_device(column, account_id))["id"]
            else:
                device_id = self.devices[column]["id"]
            return {"device_id": device_id, "id": device_id}
        if kind == "member":
            group = self.groups["inside" if column in ("self", "above") else column]
            if column == "self":
                if fresh:  # it may have left, or been made a plain member, by the previous request
                    await self._make_manager(group["id"])
                user = self.principal
            else:
                user = await self._new_user(column) if fresh else self.users[column]
            return {"group_id": group["id"], "user_id": user["id"], "id": user["id"]}
        if kind == "group":
            if fresh:
                group = _ok(await self.api.post(GROUPS, json={"name": unique("Group")},
                                                headers=self._headers_for(column)))
                if column == "inside":
                    await self._make_manager(group["id"])
            else:
                group = self.groups[column]
            return {"group_id": group["id"], "id": group["id"]}
        if kind == "role":
            role_id = (await self._new_role(column) if fresh else self.roles[column])["id"]
            return {"role_id": role_id, "id": role_id}
        if kind == "api_key":
            key_id = (await self._new_api_key(column) if fresh else self.api_keys[column])["id"]
            return {"key_id": key_id, "id": key_id}
        if kind == "organization":
            if fresh and column == "other":
                body = BODIES["POST /api/v1/organizations"]({})
                organization_id = _ok(await self.api.post("/api/v1/organizations", json=body))["id"]
            else:
                organization_id = self.organizations[column]
            return {"organization_id": organization_id, "id": organization_id}
        if kind == "revision":
            number = self.revisions[column]
            return {"number": number, "base": number, "other": number}
        if kind == "revision_file":
            number = self.revisions["other" if column == "other" else "here"]
            return {"number": number, "path": self.files.get(column, PLAIN_FILE)}
        if kind == "did":
            did_id = (await self._new_did(column) if fresh else self.dids[column])["id"]
            return {"did_id": did_id, "id": did_id}
        if kind == "inbound_rule":
            rule_id = (await self._new_inbound_rule(column) if fresh else self.inbound_rules[column])["id"]
            return {"rule_id": rule_id, "id": rule_id}
        if kind == "schedule":
            fresh = fresh and column != "default"  # never deleted (else the matrix reports it)
            schedule_id = (await self._new_schedule(column) if fresh else self.schedules[column])["id"]
            return {"schedule_id": schedule_id, "id": schedule_id}
        if kind == "trunk":
            trunk_id = (await self._new_trunk(column) if fresh else self.trunks[column])["id"]
            return {"trunk_id": trunk_id, "id": trunk_id}
        if kind == "webhook":
            return await self._new_webhook(column) if fresh else self.webhooks[column]
        if kind == "route":
            route_id = (await self._new_route(column) if fresh else self.routes[column])["id"]
            return {"route_id": route_id, "id": route_id}
        if kind == "conference":
            conference_id = (await self._new_conference(column) if fresh else self.conferences[column])["id"]
            return {"conference_id": conference_id, "id": conference_id}
        if kind == "ivr_menu":
            menu_id = (await self._new_ivr_menu(column) if fresh else self.ivr_menus[column])["id"]
            return {"menu_id": menu_id, "id": menu_id}
        if kind == "user_did":
            user_id = self.users[column]["id"]
            if not fresh:  # a free number (each used once: assigning is the only request on it)
                if column not in self.free_dids:
                    self.free_dids[column] = await self._new_did(column)
                did_id = self.free_dids[column]["id"]
            else:  # a number routed to the user
                if column == "self":
                    await self._own_account()  # a delete may have taken it: a number rings an active account
                did_id = (await self._new_did(column))["id"]
                _ok(await self.api.put(f"/api/v1/users/{user_id}/dids/{did_id}",
                                       headers=self._headers_for(column)), 200)
            return {"user_id": user_id, "did_id": did_id, "id": did_id}
        if kind == "user_greeting":
            user_id = self.users[column]["id"]
            uploaded = await self.api.post(f"/api/v1/users/{user_id}/voicemail/greetings", content=greeting_wav(),
                                           headers={**self._headers_for(column), "Content-Type": "audio/wav"})
            greeting_id = _ok(uploaded)["id"]
            return {"user_id": user_id, "greeting_id": greeting_id, "id": greeting_id}
        raise AssertionError(f"no way to make a target of kind {kind!r}")


async def send(world: World, operation: str, target: dict, headers: dict):
    method, template = operation.split(" ", 1)
    url = template.format(**world.provisioning, **target)
    if operation == "POST /api/v1/auth/token":
        form = {"username": world.principal["access"]["username"], "password": PASSWORD}
        return await world.api.client.post(url, data=form, headers=headers)
    kwargs: dict = {"headers": headers}
    if is_list(operation):
        kwargs["params"] = {"limit": 500}
    if method in ("POST", "PUT", "PATCH"):
        assert operation in BODIES, f"{operation}: add its request body to BODIES"
        make = BODIES[operation]
        body = make(target) if make is not None else None
        if isinstance(body, Upload):
            kwargs.update(content=body.content, headers={**headers, "Content-Type": body.content_type})
        elif body is not None:
            kwargs["json"] = body
    return await world.api.client.request(method, url, **kwargs)


def answer(operation: str, response, target: dict) -> str:
    if is_list(operation) and response.status_code == 200:
        return "seen" if target["id"] in {item["id"] for item in response.json()["items"]} else "hidden"
    return str(response.status_code)


def _why(response) -> str:
    if response.status_code < 400 or "json" not in response.headers.get("content-type", ""):
        return ""
    return f" ({response.json().get('detail', '')})"


@pytest.mark.parametrize("who", PRINCIPALS, ids=[p.replace("/", "-") for p in PRINCIPALS])
async def test_every_operation_answers_each_principal_as_the_matrix_says(api, who):
    role, scope = who.split("/") if who != "anonymous" else ("user", "own")
    world = await World(api, role, scope).build()
    headers = {} if who == "anonymous" else world.headers
    # Requests that keep their target first, in the table's order; then those that use theirs up.
    operations = sorted(MATRIX, key=lambda operation: operation in CONSUMING)

    mismatches = []
    for operation in operations:
        kind = MATRIX[operation].target
        listed = None
        answers = expected(operation, who)
        # A request refused whatever its target (401, 403) uses nothing up: it gets the kept target (were it
        # wrongly allowed, its own answer would tell).
        fresh = operation in CONSUMING and not set(answers.values()) <= {"401", "403"}
        for column, wanted in answers.items():
            target = await world.target(kind, column, fresh=fresh)
            response = listed if listed is not None else await send(world, operation, target, headers)
            if is_list(operation):
                listed = response  # one request answers every column of a list
            got = answer(operation, response, target)
            if got != wanted:
                mismatches.append(f"{operation} as {who} on {column}: expected {wanted}, got {got}{_why(response)}")

    assert not mismatches, f"{len(mismatches)} answer(s) differ from MATRIX:\n" + "\n".join(mismatches)
