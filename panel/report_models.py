"""What the panel reports to CXone about an interaction, through the proxy: one pydantic model per kind.

Shared by both sides, like the action models: the panel builds them, the proxy validates them and
turns them into custom data on the CXone contact, with its own CXone credentials. The proxy adds
what only it knows (the CRM system's name, the time it reported), so a report sent twice (a retry,
a reload, a second tab) is the same report and CXone hears it once.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .action_models import RecordId

SessionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")]


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    interaction_id: RecordId
    session_id: SessionId  # CXone's ACD agent session, from the host's SessionInfo: the custom-data API needs it


class CrmActionReport(_Report):
    """A CRM action landed: telemetry ``type: crm_action`` on the interaction."""

    action: Literal["call_log", "contact_update", "task"]
    crm_id: RecordId
    action_key: str = Field(min_length=8, max_length=255)  # one report per distinct action, however often it is sent


class CrmContextReport(_Report):
    """The screen pop found the caller's record: attach it to the contact for scripts and reporting.

    ``context_version`` counts the records this interaction has been bound to (1 at the first pop, 2 if
    the agent picks another), so CXone-side consumers can tell the latest.
    """

    crm_id: RecordId
    context_version: int = Field(ge=1, le=1000)


REPORT_KINDS: dict[str, type[_Report]] = {"crm_action": CrmActionReport, "crm_context": CrmContextReport}
