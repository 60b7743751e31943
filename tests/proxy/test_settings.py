import os
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


def test_the_example_settings_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxy.__main__ import load_settings
    from proxy.settings import REPO_ROOT

    for name in list(os.environ):
        if name.startswith("PANEL_"):
            monkeypatch.delenv(name)
    settings = load_settings(REPO_ROOT / "proxy" / "settings.example.env", {})
    assert settings.crm_adapter == "hubspot" and settings.lookup_cache_hit_ttl_s == 900
    assert settings.crm_token is not None and "pat-na1" not in repr(settings)  # secrets never print


def test_secrets_can_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from proxy.__main__ import load_settings
    from proxy.settings import REPO_ROOT

    (tmp_path / "panel_crm_token").write_text("pat-from-a-file")
    monkeypatch.setenv("PANEL_SECRETS_DIR", str(tmp_path))
    for name in ("PANEL_CRM_TOKEN",):
        monkeypatch.delenv(name, raising=False)
    example = (REPO_ROOT / "proxy" / "settings.example.env").read_text()
    settings_file = tmp_path / "settings.env"
    settings_file.write_text("\n".join(line for line in example.splitlines() if not line.startswith("PANEL_CRM_TOKEN")))
    settings = load_settings(settings_file, {})
    assert settings.crm_token is not None and settings.crm_token.get_secret_value() == "pat-from-a-file"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"crm_adapter": "salesforce"}, "PANEL_SALESFORCE_CLIENT_ID"),
        ({"crm_adapter": "hubspot"}, "PANEL_CRM_TOKEN"),
        ({"crm_rate_limit": "lots"}, "100/10 seconds"),
        ({"redis_url": "http://redis"}, "redis://"),
        ({"relay_upstreams": {"Bad Name": "https://x.example.com"}}, "relay name"),
        ({"relay_upstreams": {"cases": "http://x.example.com"}}, "https://"),
    ],
)
def test_bad_crm_settings_are_refused_with_the_setting_named(overrides: dict[str, object], message: str) -> None:
    base = {
        "demo": False,
        "session_secret": "s" * 40,
        "crm_url": "https://crm.example.com",
        "public_url": "https://p.example.com",
    }
    with pytest.raises(ValidationError, match=message):
        Settings(**{**base, **overrides})  # type: ignore[arg-type]
