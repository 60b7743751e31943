import pytest

from panel.origins import InvalidOriginPattern, origin_allowed, parse_allow_list, parse_origin

DEFAULT = parse_allow_list("https://*.cxone.com https://*.niceincontact.com http://localhost:8000")


@pytest.mark.parametrize(
    "origin",
    ["https://na1.cxone.com", "https://a.b.cxone.com", "https://home-c32.niceincontact.com", "http://localhost:8000"],
)
def test_allowed(origin: str) -> None:
    assert origin_allowed(origin, DEFAULT)


@pytest.mark.parametrize(
    "origin",
    [
        "https://cxone.com",  # the bare domain is not a subdomain
        "http://na1.cxone.com",  # wrong scheme
        "https://na1.cxone.com:8443",  # wrong port
        "https://evilcxone.com",
        "https://cxone.com.evil.example",
        "http://localhost:8001",
        "http://foreign.localhost:8000",
        "null",
        "",
    ],
)
def test_refused(origin: str) -> None:
    assert not origin_allowed(origin, DEFAULT)


def test_default_ports_are_normalised() -> None:
    assert parse_origin("https://x.example.com:443") == parse_origin("https://x.example.com")
    assert str(parse_origin("https://*.cxone.com")) == "https://*.cxone.com"
    assert str(parse_origin("http://localhost:8000")) == "http://localhost:8000"


@pytest.mark.parametrize(
    "text",
    ["ftp://x.com", "https://x.com/path", "https://*", "https://a.*.com", "https://*.com", "https://x.com:99999", "*"],
)
def test_invalid_patterns_say_why(text: str) -> None:
    with pytest.raises(InvalidOriginPattern, match="'"):
        parse_origin(text)
