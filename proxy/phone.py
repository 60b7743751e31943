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
