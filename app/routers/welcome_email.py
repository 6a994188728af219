"""The welcome e-mail: a user's extension and its softphone's provisioning link, sent over SMTP."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.core.context import Context, require
from app.core.db import PHASED
from app.models.welcome_email import WelcomeEmailSent
from app.routers.common import api_router, responses
from app.services import welcome_email

router = api_router("/users", "users")
# Phased: the SMTP round trip happens between the read of the checks and the write of the new link.
Senders = Annotated[Context, Depends(require("users.write", transaction=PHASED))]


@router.post("/{user_id}/welcome-email", response_model=WelcomeEmailSent, summary="Send a user its welcome e-mail",
             responses=responses(401, 403, 404, 409, 422, 502, 503), operation_id="users_welcome_email_send")
async def send_welcome_email(user_id: uuid.UUID, ctx: Senders) -> WelcomeEmailSent:
    """Mail the user (at its `email`) its extension and a provisioning link for its softphone, in its language;
    never a password or a PIN. The link fetches the account's settings, SIP password included, so this needs
    `sip_secrets.read` and authority over the user, as revealing the password does. Each e-mail carries a new
    link: the user's softphone device (registered on the first e-mail) gets it, and its previous link stops
    working. Nothing changes when the SMTP server refuses the mail (502); 503 when mail is not configured
    (`CENTRALINO_SMTP_HOST`); 409 when the user has no e-mail address or no extension. Audited."""
    return await welcome_email.send(ctx, user_id)
