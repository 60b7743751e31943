"""Panel fields to a CRM's own field names: defaults per adapter, overridable for custom fields.

``PANEL_CRM_FIELD_MAP='{"company": "Company__c"}'`` maps the panel's ``company`` to a custom field.
A panel field with no CRM field (the default map has none and the setting adds none) is refused
with a clear error instead of being dropped silently.
"""

from collections.abc import Mapping

from panel.action_models import ContactFields

from .base import CrmRejected

PANEL_FIELDS = frozenset(ContactFields.model_fields)


class FieldMap:
    def __init__(self, crm: str, defaults: Mapping[str, str], overrides: Mapping[str, str]) -> None:
        unknown = set(overrides) - PANEL_FIELDS
        if unknown:
            raise ValueError(f"no panel field called {', '.join(sorted(unknown))}; known: {sorted(PANEL_FIELDS)}")
        self._crm = crm
        self._names = {**defaults, **overrides}

    def name(self, field: str) -> str:
        return self._names.get(field, "")

    def changes(self, fields: ContactFields) -> dict[str, str]:
        """The contact update in the CRM's field names."""
        changes: dict[str, str] = {}
        for field, value in fields.model_dump(exclude_none=True).items():
            crm_field = self._names.get(field)
            if not crm_field:
                raise CrmRejected(f"{self._crm} has no field for {field}; map one with PANEL_CRM_FIELD_MAP")
            changes[crm_field] = value
        return changes
