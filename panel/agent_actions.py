"""What the agent does in the panel, as values the core can decide on."""

from dataclasses import dataclass
from typing import Literal

CallCommand = Literal["answer", "hold", "resume", "hangup"]


@dataclass(frozen=True)
class SwitchTo:
    """Look at another open interaction (it stays on screen until the agent connects a call)."""

    interaction_id: str


@dataclass(frozen=True)
class ChooseRecord:
    """Of several matches, this is the caller: later actions bind to it."""

    interaction_id: str
    crm_id: str


@dataclass(frozen=True)
class EditNotes:
    interaction_id: str
    text: str


@dataclass(frozen=True)
class ControlCall:
    interaction_id: str
    command: CallCommand


@dataclass(frozen=True)
class CreateContact:
    """No match: the agent creates the caller's record (the phone number comes from the call)."""

    interaction_id: str
    first_name: str
    last_name: str
    email: str = ""


@dataclass(frozen=True)
class LogCall:
    """Write the call log now (it is written anyway when the call ends)."""

    interaction_id: str


@dataclass(frozen=True)
class UpdateContact:
    """Correct the chosen record's email or company (empty fields stay as they are)."""

    interaction_id: str
    email: str = ""
    company: str = ""


@dataclass(frozen=True)
class CreateTask:
    """A follow-up task on the chosen record."""

    interaction_id: str
    title: str
    due_date: str  # YYYY-MM-DD, as a date input gives it
    notes: str = ""


AgentAction = SwitchTo | ChooseRecord | EditNotes | ControlCall | CreateContact | LogCall | UpdateContact | CreateTask
