from pathlib import Path

import pytest
from pydantic import ValidationError

from proxy.__main__ import load_settings
from proxy.settings import Settings

COMPLETE = {"session_secret": "x" * 32, "crm_url": "http://crm", "public_url": "https://panel.example.com"}


def test_demo_needs_nothing_and_adds_the_simulator_origin() -> None:
    settings = Settings(demo=True, PORT=8123)
    assert [str(origin) for origin in settings.allowed_desktop_origins] == [
        "https://*.cxone.com",
        "https://*.niceincontact.com",
        "https://*.incontact.com",
        "http://localhost:8123",
    ]
    assert settings.panel_origin == "http://127.0.0.1:8123"


def test_production_names_what_is_missing() -> None:
    with pytest.raises(ValidationError, match="PANEL_SESSION_SECRET, PANEL_CRM_URL, PANEL_PUBLIC_URL"):
        Settings()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("desktop_origins", "https://*.cxone.com ftp://x", "scheme must be http or https"),
        ("desktop_origins", "   ", "at least one desktop origin"),
        ("default_region", "XX", "not a region"),
        ("session_secret", "short", "at least 32 bytes"),
        ("public_url", "https://panel.example.com/path", "must be an origin"),
    ],
)
def test_invalid_values_are_refused_with_the_reason(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Settings(**{**COMPLETE, field: value})
    assert caught.value.errors()[0]["loc"] in ((field,), ())


def test_environment_and_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "panel.env"
    settings_file.write_text("PANEL_DEMO=true\nPANEL_DEFAULT_REGION=gb\nPORT=9001\n")
    monkeypatch.setenv("PANEL_DESKTOP_ORIGINS", "https://*.example.net")
    settings = load_settings(settings_file, {})
    assert (settings.demo, settings.default_region, settings.port) == (True, "GB", 9001)
    assert [str(origin) for origin in settings.allowed_desktop_origins] == [
        "https://*.example.net",
        "http://localhost:9001",
    ]


def test_start_up_error_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANEL_DEFAULT_REGION", "Atlantis")
    with pytest.raises(SystemExit, match="PANEL_DEFAULT_REGION: Value error, 'Atlantis' is not a region"):
        load_settings(None, {"demo": True})


def test_secret_is_never_shown() -> None:
    settings = Settings(**COMPLETE)
    assert "x" * 32 not in repr(settings) and "x" * 32 not in str(settings.model_dump())
