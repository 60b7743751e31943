"""Phone numbers to E.164 with ``phonenumbers``, so every CRM is searched with one spelling."""

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, default_region: str) -> str:
    """Normalise a caller number as CXone reports it (national or international) to E.164.

    "Possible" rather than "valid": fictional and newly allocated ranges must still be looked up.
    """
    if not raw or len(raw) > 64:
        raise InvalidPhoneNumber("a phone number is needed (at most 64 characters)")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(f"not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_number(stored: str | None, e164: str, default_region: str) -> bool:
    """Whether a number as a CRM stored it (any formatting) is the E.164 number looked up."""
    if not stored:
        return False
    try:
        return to_e164(stored, default_region) == e164
    except InvalidPhoneNumber:
        return False


def national_digits(e164: str) -> str:
    """The national significant number (``+14155550123`` -> ``4155550123``): what full-text phone search indexes."""
    return str(phonenumbers.parse(e164, None).national_number)
