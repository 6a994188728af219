"""The welcome e-mail (3CX sends one when an extension is created): the extension and the softphone's link.

The e-mail never carries a password or a PIN. It carries the provisioning link of the user's
softphone, which fetches the account's settings (its SIP password included) straight into the
softphone; that link works like a password, so sending it needs exactly the authority of revealing
the SIP password (``sip_secrets.read`` and authority over the holder), like every other path to it.
Links are stored only as hashes, so each e-mail carries a new one: the softphone's old link stops
working, or the user's first softphone is registered.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from app.config_gen.asterisk import VOICEMAIL_CODE
from app.config_gen.provisioning import provisioning_filename
from app.core.context import Context
from app.core.db import begin_write_phase, end_read_phase
from app.core.errors import Conflict, Forbidden
from app.models import ConfigState, Device, SipAccount, User
from app.models.enums import DeviceVendor
from app.models.welcome_email import ProvisioningLinkChange, WelcomeEmailSent
from app.services import audit, devices, mail, roles, users
from app.services.changes import touch

SOFTPHONE = DeviceVendor.baresip


@dataclass(frozen=True)
class _Texts:
    subject: str
    greeting: str
    extension: str
    softphone: str
    voicemail: str
    login: str
    no_password: str


# The user's language when we have it (the product's seed markets), English otherwise.
TEXTS = {
    "en": _Texts(
        subject="Your phone extension {extension}",
        greeting="Hello {first_name},",
        extension="you have a phone extension at {organization}: {extension}.",
        softphone="To set up your softphone, give it this provisioning link. It configures your account; keep it to "
                  "yourself, since anyone holding it can use your extension:",
        voicemail="Your voicemail: dial {code} from your phone.",
        login="To sign in to the portal, your user name is {username}.",
        no_password="This e-mail contains no password. If you did not expect it, please tell your administrator."),
    "it": _Texts(
        subject="Il tuo interno telefonico {extension}",
        greeting="Ciao {first_name},",
        extension="hai un interno telefonico presso {organization}: {extension}.",
        softphone="Per configurare il tuo softphone, inserisci questo link di provisioning. Configura il tuo "
                  "account; tienilo per te, perché chiunque lo possieda può usare il tuo interno:",
        voicemail="La tua casella vocale: componi {code} dal tuo telefono.",
        login="Per accedere al portale, il tuo nome utente è {username}.",
        no_password="Questa e-mail non contiene password. Se non te l'aspettavi, avvisa il tuo amministratore."),
    "pl": _Texts(
        subject="Twój numer wewnętrzny {extension}",
        greeting="Dzień dobry {first_name},",
        extension="masz numer wewnętrzny w {organization}: {extension}.",
        softphone="Aby skonfigurować softphone, podaj mu ten link do provisioningu. Konfiguruje on Twoje konto; "
                  "nie udostępniaj go nikomu, bo każdy, kto go ma, może korzystać z Twojego numeru:",
        voicemail="Twoja poczta głosowa: wybierz {code} na swoim telefonie.",
        login="Twoja nazwa użytkownika do logowania w portalu to {username}.",
        no_password="Ta wiadomość nie zawiera hasła. Jeśli jej nie oczekiwałeś, powiadom administratora."),
    "sv": _Texts(
        subject="Ditt anknytningsnummer {extension}",
        greeting="Hej {first_name},",
        extension="du har en anknytning hos {organization}: {extension}.",
        softphone="För att ställa in din softphone, ange den här provisioneringslänken. Den konfigurerar ditt "
                  "konto; håll den för dig själv, eftersom alla som har den kan använda din anknytning:",
        voicemail="Din röstbrevlåda: ring {code} från din telefon.",
        login="Ditt användarnamn för att logga in på portalen är {username}.",
        no_password="Det här e-postmeddelandet innehåller inget lösenord. Om du inte väntade dig det, meddela din "
                    "administratör."),
}


def texts_for(language: str) -> _Texts:
    return TEXTS.get(language.split("-")[0].lower(), TEXTS["en"])


def check_sendable(user: User, account: SipAccount | None, loc: list[str]) -> None:
    """A welcome e-mail needs an address to go to and an extension to announce (409 naming the field)."""
    if not user.email:
        raise Conflict.field([*loc, "email"], "The user has no e-mail address to send the welcome e-mail to",
                             "welcome-email-no-address")
    if account is None:
        raise Conflict.field([*loc, "extension"], "The user has no SIP account: a welcome e-mail announces an "
                             "extension", "welcome-email-no-extension")


async def _check_may_send(ctx: Context, user: User) -> None:
    """The authority of revealing the user's SIP password, checked before anything about the user is told."""
    if not ctx.principal.can("sip_secrets.read"):
        raise Forbidden("The welcome e-mail carries the softphone's provisioning link, which fetches the SIP "
                        "password: it needs the permission sip_secrets.read")
    if user.id != ctx.principal.user_id:
        await roles.check_authority_over(ctx.session, ctx.principal, user,
                                         "send the provisioning link (and so the SIP password) of")


async def _softphone_of(ctx: Context, account: SipAccount) -> Device | None:
    """The account's first softphone, if it has one."""
    query = (select(Device).where(Device.organization_id == account.organization_id,
                                  Device.sip_account_id == account.id, Device.vendor == SOFTPHONE)
             .order_by(Device.created_at, Device.id).limit(1))
    return (await ctx.session.execute(query)).scalar_one_or_none()


async def _store_link(ctx: Context, user: User, account: SipAccount, device: Device | None,
                      token: str) -> tuple[Device, ProvisioningLinkChange]:
    if device is None:
        label = f"Softphone of {user.first_name} {user.last_name}".strip()[:200]
        device = Device(organization_id=account.organization_id, vendor=SOFTPHONE, sip_account_id=account.id,
                        label=label, provisioning_token_hash=devices.hash_token(token))
        ctx.session.add(device)
        await ctx.session.flush()
        await audit.record(ctx, "device.create", devices.RESOURCE, device.id, after=audit.snapshot(device),
                           config_change=True)
        return device, ProvisioningLinkChange.created
    device.provisioning_token_hash = devices.hash_token(token)
    touch(device)
    await ctx.session.flush()
    await audit.record(ctx, "device.provisioning_url_rotate", devices.RESOURCE, device.id,
                       after={"provisioning_token": token})
    return device, ProvisioningLinkChange.rotated


def compose(ctx: Context, user: User, account: SipAccount, link: str):
    """The e-mail, in the user's language: plain text and the same as HTML. No secret but the link."""
    texts = texts_for(user.language)
    values = {"first_name": user.first_name, "organization": ctx.organization.name, "extension": account.extension,
              "code": VOICEMAIL_CODE, "username": user.username}
    before = [texts.greeting.format(**values), texts.extension.format(**values)]
    after = [texts.voicemail.format(**values) if user.voicemail_enabled else None,
             texts.login.format(**values) if user.username else None, texts.no_password]
    after = [paragraph for paragraph in after if paragraph]
    text = "\n\n".join([*before, f"{texts.softphone}\n{link}", *after]) + "\n"
    escaped_link = html.escape(link)
    body = "".join([*(f"<p>{html.escape(p)}</p>" for p in before),
                    f'<p>{html.escape(texts.softphone)}<br><a href="{escaped_link}">{escaped_link}</a></p>',
                    *(f"<p>{html.escape(p)}</p>" for p in after)])
    document = f'<!DOCTYPE html>\n<html lang="{html.escape(user.language)}"><body>{body}</body></html>\n'
    return mail.new_message(ctx.settings, to=user.email, subject=texts.subject.format(**values), text=text,
                            html=document)


def _link(ctx: Context, token: str) -> str:
    return devices.provisioning_url(ctx.settings, token) + provisioning_filename(SOFTPHONE, None)


async def _pending_apply(ctx: Context) -> bool:
    pending = (await ctx.session.execute(select(ConfigState.pending_changes)
                                         .where(ConfigState.organization_id == ctx.organization.id))).scalar()
    return bool(pending)


async def _finish(ctx: Context, user: User, account: SipAccount, device: Device, change: ProvisioningLinkChange,
                  pending_apply: bool) -> WelcomeEmailSent:
    sent = WelcomeEmailSent(user_id=user.id, to=user.email, extension=account.extension, softphone_device_id=device.id,
                            provisioning_link=change, pending_apply=pending_apply, sent_at=datetime.now(UTC))
    await audit.record(ctx, "user.welcome_email", users.RESOURCE, user.id,
                       after={"to": sent.to, "softphone_device_id": str(device.id), "provisioning_link": change.value})
    return sent


async def send(ctx: Context, user_id) -> WelcomeEmailSent:
    """Send a user its welcome e-mail again (or for the first time), with a new softphone provisioning link.

    Runs in a phased session: the checks read, then (on SQLite, with no transaction open) the mail goes
    out, and only once the SMTP server took it is the new link stored. A refused mail changes nothing.
    """
    view = await users.get(ctx, user_id)
    user, account = view.user, view.account
    await _check_may_send(ctx, user)
    check_sendable(user, account, ["path", "user_id"])
    mail.check_configured(ctx.settings)
    device = await _softphone_of(ctx, account)
    pending = await _pending_apply(ctx)
    token = devices.new_token()
    message = compose(ctx, user, account, _link(ctx, token))
    await end_read_phase(ctx.session)
    await mail.send(ctx.settings, message)
    await begin_write_phase(ctx.session)
    device, change = await _store_link(ctx, user, account, device, token)
    return await _finish(ctx, user, account, device, change, pending or change is ProvisioningLinkChange.created)


async def send_to_new_user(ctx: Context, view: users.UserView) -> WelcomeEmailSent:
    """The opt-in of user creation: registers the new user's softphone and mails its link, in the creating
    transaction (a refused mail means no user)."""
    user, account = view.user, view.account
    await _check_may_send(ctx, user)
    check_sendable(user, account, ["body"])
    mail.check_configured(ctx.settings)
    token = devices.new_token()
    device, change = await _store_link(ctx, user, account, None, token)
    await mail.send(ctx.settings, compose(ctx, user, account, _link(ctx, token)))
    return await _finish(ctx, user, account, device, change, True)
