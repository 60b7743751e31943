"""Keeps the agent's notes safe across a panel reload.

Chromium gives a cross-site frame no sessionStorage, localStorage or IndexedDB, so notes are kept
by the proxy (``/crm/drafts/{ContactID}``, per signed-in agent): saved shortly after typing stops
and, with a keepalive request, when the page is hidden; all read back in one request when the panel
starts, before it handles any host event, so a call rebuilt from CXone's snapshot has its notes at once.
"""

from collections.abc import Callable
from urllib.parse import quote

from .ports import FetchFailed, FetchTimedOut, PanelPorts

DRAFTS_PATH = "/crm/drafts/"
SAVE_DELAY_S = 0.4  # after the last keystroke
DRAFT_DEADLINE_S = 5.0


def draft_url(interaction_id: str) -> str:
    return DRAFTS_PATH + quote(interaction_id, safe="")


class DraftKeeper:
    def __init__(
        self,
        ports: PanelPorts,
        notes_of: Callable[[str], str | None],
        log: Callable[[str, str], None],
    ) -> None:
        self._ports = ports
        self._notes_of = notes_of
        self._log = log
        self._saved: dict[str, str] = {}  # what the proxy holds, per open interaction
        self._waiting: set[str] = set()  # interactions with a save scheduled

    def edited(self, interaction_id: str) -> None:
        """The agent typed: save once typing pauses (one scheduled save per interaction)."""
        if interaction_id not in self._waiting:
            self._waiting.add(interaction_id)
            self._ports.spawn(self._save_after_pause(interaction_id))

    async def load(self) -> dict[str, str]:
        """The agent's drafts, as the proxy holds them (empty if they cannot be had in time)."""
        try:
            reply = await self._ports.fetch_json(DRAFTS_PATH.rstrip("/"), DRAFT_DEADLINE_S)
        except (FetchTimedOut, FetchFailed) as error:
            self._log("warning", f"could not read saved notes: {error!r}")
            return {}
        drafts = reply.body.get("drafts") if reply.status == 200 and isinstance(reply.body, dict) else None
        if not isinstance(drafts, dict):
            return {}
        loaded = {str(key): notes for key, notes in drafts.items() if isinstance(notes, str) and notes}
        self._saved.update(loaded)
        return loaded

    def forget(self, interaction_ids: set[str]) -> None:
        for interaction_id in interaction_ids:
            self._saved.pop(interaction_id, None)

    def flush(self, interaction_ids: list[str]) -> None:
        """The page is going away: send every unsaved draft now, in requests that outlive the page."""
        for interaction_id in interaction_ids:
            notes = self._notes_of(interaction_id)
            if notes is not None and notes != self._saved.get(interaction_id, ""):
                self._ports.send_keepalive("PUT", draft_url(interaction_id), {"notes": notes})
                self._saved[interaction_id] = notes

    async def _save_after_pause(self, interaction_id: str) -> None:
        await self._ports.sleep(SAVE_DELAY_S)
        self._waiting.discard(interaction_id)
        notes = self._notes_of(interaction_id)
        if notes is None or notes == self._saved.get(interaction_id, ""):
            return
        try:
            reply = await self._ports.send_json("PUT", draft_url(interaction_id), {"notes": notes}, DRAFT_DEADLINE_S)
        except (FetchTimedOut, FetchFailed) as error:
            self._log("warning", f"notes for {interaction_id} not saved yet: {error!r}")
            return
        if reply.status == 204:
            self._saved[interaction_id] = notes
        else:
            self._log("warning", f"notes for {interaction_id} not saved: http {reply.status}")
