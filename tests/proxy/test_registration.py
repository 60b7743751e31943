import json
from pathlib import Path

import pytest

from proxy.registration import RegistrationError, load_registrations
from proxy.settings import Settings

VALID = {
    "panelId": "crm-context",
    "displayName": "CRM context",
    "url": "/cxone-panel?panelId=crm-context",
    "permissions": ["clipboard-write"],
    "sandbox": ["allow-scripts", "allow-same-origin", "allow-forms"],
    "csp": {"img-src": ["'self'", "data:"]},
}


def write(tmp_path: Path, documents: object) -> Path:
    path = tmp_path / "registrations.json"
    path.write_text(json.dumps(documents))
    return path


def test_the_shipped_file_is_valid() -> None:
    registrations = load_registrations(Settings(demo=True).registrations_file)
    assert list(registrations) == ["crm-context"]


def test_relative_url_is_resolved_against_the_public_url(tmp_path: Path) -> None:
    registration = load_registrations(write(tmp_path, [VALID]))["crm-context"]
    assert (
        registration.resolved("https://panel.example.com").url
        == "https://panel.example.com/cxone-panel?panelId=crm-context"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"panelId": "Bad Id"}, "panelId"),
        ({"displayName": ""}, "displayName"),
        ({"url": "/elsewhere?panelId=crm-context"}, "document"),
        ({"url": "http://panel.example.com/cxone-panel?panelId=crm-context"}, "document"),
        ({"permissions": ["geolocation"]}, "permissions"),
        ({"sandbox": ["allow-scripts"]}, "sandbox"),
        ({"sandbox": ["allow-scripts", "allow-same-origin", "allow-top-navigation"]}, "sandbox"),
        ({"csp": {"script-src": ["'self'"]}}, "csp"),
        ({"csp": {"img-src": ["https://tracker.example"]}}, "csp"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_an_invalid_registration_names_its_field(tmp_path: Path, change: dict[str, object], field: str) -> None:
    with pytest.raises(RegistrationError, match=f"field '{field}"):
        load_registrations(write(tmp_path, [{**VALID, **change}]))


def test_duplicates_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistrationError, match="duplicate"):
        load_registrations(write(tmp_path, [VALID, VALID]))
    with pytest.raises(RegistrationError, match="non-empty JSON list"):
        load_registrations(write(tmp_path, []))
    with pytest.raises(RegistrationError, match="cannot read"):
        load_registrations(tmp_path / "missing.json")
