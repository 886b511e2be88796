"""The integrations core's rows: partners, integrations, their steps and history, heartbeats.

One module per family; everything is importable from ``integrations.models``. The plug-ins (Jira,
hand-overs) and the stage and API keep their own models in their own apps.
"""

from integrations.models.comments import Comment
from integrations.models.heartbeat import Heartbeat
from integrations.models.history import (
    STEP_NOTE_FIELDS,
    ChangeSource,
    IntegrationEvent,
    RecordedChange,
    StepChange,
    step_notes_seen_by_partner,
)
from integrations.models.integration import (
    USERNAME_RE,
    Integration,
    IntegrationStep,
    TeamMember,
    split_usernames,
    validate_https,
    validate_usernames,
)
from integrations.models.partners import Partner, PartnerContact, PartnerUser, tradingview_zone, validate_time_zone

__all__ = [
    "STEP_NOTE_FIELDS",
    "USERNAME_RE",
    "ChangeSource",
    "Comment",
    "Heartbeat",
    "Integration",
    "IntegrationEvent",
    "IntegrationStep",
    "Partner",
    "PartnerContact",
    "PartnerUser",
    "RecordedChange",
    "StepChange",
    "TeamMember",
    "split_usernames",
    "step_notes_seen_by_partner",
    "tradingview_zone",
    "validate_https",
    "validate_time_zone",
    "validate_usernames",
]
