"""The welcome e-mail a user gets with its extension and its softphone's provisioning link (3CX sends one)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field as PydanticField

from app.models.base import ApiModel


class ProvisioningLinkChange(StrEnum):
    """What sending the e-mail did to the softphone's provisioning link."""

    created = "created"  # the user's account had no softphone: one was registered, with a new link
    rotated = "rotated"  # the softphone got a new link (the one in the e-mail); its old link stopped working


class WelcomeEmailSent(ApiModel):
    """A welcome e-mail handed to the SMTP server: to whom, and which softphone link it carries."""

    user_id: uuid.UUID
    to: str = PydanticField(description="The address it was sent to (the user's e-mail)",
                            examples=["anna.nowak@example.com"])
    extension: int = PydanticField(examples=[105])
    softphone_device_id: uuid.UUID = PydanticField(
        description="The softphone device whose provisioning link the e-mail carries (the link itself is only in "
                    "the e-mail)")
    provisioning_link: ProvisioningLinkChange
    pending_apply: bool = PydanticField(
        description="true: the organization has changes not applied yet, so the account or the softphone's file "
                    "may not be live until the next apply")
    sent_at: datetime
