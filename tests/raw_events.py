"""Builders for raw CXone events as the host sends them (PascalCase keys, string values)."""

from typing import Any


def call_event(contact_id: str = "5001", status: str = "Incoming", **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "Type": "CallContactEvent",
        "ContactID": contact_id,
        "MasterID": contact_id,
        "Status": status,
        "CallType": "Regular",
        "ANI": "+14155550123",
        "DNIS": "+18005550100",
        "Skill": "4001",
        "IsInbound": "True",
        "StartTimeUTC": "2026-12-04T10:00:00.000Z",
        "LastStateChangeTimeUTC": "2026-12-04T10:00:00.000Z",
        "FinalState": "False",
    }
    event.update(overrides)
    return event


def agent_state(state: str = "Available", reason: str = "", acw: str = "False") -> dict[str, Any]:
    return {
        "Type": "AgentState",
        "CurrentState": state,
        "CurrentOutReason": reason,
        "IsAcw": acw,
        "StartTimeUTC": "2026-12-04T09:00:00.000Z",
    }


def batch(*events: object) -> dict[str, Any]:
    return {"issuer": "CXA", "contactId": None, "events": list(events)}
