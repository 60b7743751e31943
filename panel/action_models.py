"""CRM actions the panel sends and the proxy carries out: one pydantic model per action type.

Shared by both sides: the panel builds them, the proxy validates them (422 naming the field).
"""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .models import Direction

RecordId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, Field(max_length=20_000)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CallLog(_Action):
    """The call's log, bound to the interaction and the record the agent chose; one per interaction."""

    interaction_id: RecordId
    crm_id: RecordId
    subject: str = Field(min_length=1, max_length=255)
    notes: Text = ""
    disposition: str = Field(default="", max_length=80)
    direction: Direction
    duration_s: int = Field(ge=0, le=86_400)


class ContactFields(_Action):
    """The small set of contact fields an agent may correct during a call."""

    first_name: str | None = Field(default=None, min_length=1, max_length=80)
    last_name: str | None = Field(default=None, min_length=1, max_length=80)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    company: str | None = Field(default=None, max_length=120)

    @model_validator(mode="after")
    def _something_to_change(self) -> "ContactFields":
        if not self.model_dump(exclude_none=True):
            raise ValueError("at least one field to change is needed")
        return self


class ContactUpdate(_Action):
    interaction_id: RecordId
    crm_id: RecordId
    fields: ContactFields


class FollowUpTask(_Action):
    interaction_id: RecordId
    crm_id: RecordId
    title: str = Field(min_length=1, max_length=255)
    due_date: date
    notes: Text = ""


ACTION_TYPES: dict[str, type[_Action]] = {"call_log": CallLog, "contact_update": ContactUpdate, "task": FollowUpTask}
