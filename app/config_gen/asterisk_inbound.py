"""Calls from the trunks: each DID goes to its inbound rule's destination, through its office-hours schedule.

``[from-trunk]`` is the context of every trunk endpoint. A DID with a schedule first asks the
schedule's routine for ``SCHEDULE_STATE`` (see ``asterisk_schedules``), then jumps to the
extension named after that state and the number, so each branch reads on its own line:

    exten => +48221234567,1,Gosub(schedule-0a1b2c3d,s,1)
     same => n,Goto(${SCHEDULE_STATE}+48221234567,1)
    exten => open+48221234567,1,Goto(internal,101,1)
    exten => closed+48221234567,1,VoiceMail(101@acme,u)

Carriers send the number with or without ``+``; both reach the rule. A number without a rule,
and any other number, hears "not in service" (Axivox's ``not_configured``).
"""

from __future__ import annotations

from app.config_gen.asterisk_forwarding import ORIGIN_VARIABLE
from app.config_gen.asterisk_groups import DialplanContext, Extension, GroupPlan, destination_applications
from app.config_gen.asterisk_schedules import STATE_VARIABLE, context_names
from app.config_gen.escaping import refuse_control_characters
from app.config_gen.snapshot import DidInfo

FROM_TRUNK_CONTEXT = "from-trunk"
_NOT_IN_SERVICE = ("Answer()", "Playback(ss-noservice)", "Hangup()")


def from_trunk_context(plan: GroupPlan, ring_timeout: int) -> DialplanContext:
    """The ``[from-trunk]`` context: every DID by its rule, then "not in service" for anything else."""
    snapshot = plan.snapshot
    schedules = context_names(snapshot.schedules)
    extensions: list[Extension] = []
    for did in snapshot.dids:
        number = _e164(did)
        extensions += _did_extensions(did, number, plan, schedules, ring_timeout)
        # The same number as carriers that drop the "+" send it.
        extensions.append(Extension(number[1:], (f"Goto({FROM_TRUNK_CONTEXT},{number},1)",)))
    extensions += [Extension("_X.", _NOT_IN_SERVICE, comment="any other number: not in service"),
                   Extension("_+X.", _NOT_IN_SERVICE)]
    return DialplanContext(FROM_TRUNK_CONTEXT, tuple(extensions),
                           comment="Calls from the trunks, by DID (inbound rules)")


def _did_extensions(did: DidInfo, number: str, plan: GroupPlan, schedules: dict[str, str],
                    ring_timeout: int) -> list[Extension]:
    def apps(destination: dict | None) -> tuple[str, ...]:
        return tuple(destination_applications(destination, plan, ring_timeout)) if destination else _NOT_IN_SERVICE

    # Users' forwarding rules tell calls from outside by this (inherited through Local channels and transfers).
    origin = f"Set(__{ORIGIN_VARIABLE}=external)"

    if did.destination is None:
        return [Extension(number, _NOT_IN_SERVICE, comment=f"{number}: no inbound rule, not in service")]
    name = refuse_control_characters(did.rule_name or "", f"inbound rule name of {number}")
    if did.schedule_id is None or did.schedule_id not in schedules:
        return [Extension(number, (origin, *apps(did.destination)),
                          comment=f"{number} ({name}): {did.destination['type']}")]
    out_of_hours = apps(did.out_of_hours_destination)
    holiday = apps(did.holiday_destination) if did.holiday_destination else out_of_hours
    return [
        Extension(number, (origin, f"Gosub({schedules[did.schedule_id]},s,1)", f"Goto(${{{STATE_VARIABLE}}}{number},1)"),
                  comment=f"{number} ({name}): by office hours"),
        Extension(f"open{number}", apps(did.destination)),
        Extension(f"closed{number}", out_of_hours),
        Extension(f"break{number}", out_of_hours),
        Extension(f"holiday{number}", holiday),
    ]


def _e164(did: DidInfo) -> str:
    number = did.number
    if not (number.startswith("+") and number[1:].isdigit() and 2 < len(number) <= 16):
        raise ValueError(f"DID {number!r} is not an E.164 number")
    return number
