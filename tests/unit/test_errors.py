"""Secret redaction: URLs, registered values, log records."""

from __future__ import annotations

import logging

from tap_analytics.errors import SECRETS, SecretFilter, redact, redact_url


def test_redact_url_drops_user_info_and_masks_secret_parameters() -> None:
    url = "https://bob:pw-unit-errors-1@api.example.com:8443/v1/x?api_key=abc123&offset=0&token=t"
    assert redact_url(url) == "https://api.example.com:8443/v1/x?api_key=***&offset=0&token=***"


def test_redact_url_keeps_ordinary_parameters() -> None:
    url = "https://api.example.com/v1/x?offset=100&limit=50&status=all"
    assert redact_url(url) == url


def test_configured_parameter_name_is_masked() -> None:
    SECRETS.add_param_name("X_Unit_Sig")
    assert redact_url("https://a.example.com/p?x_unit_sig=zzz&b=1") == "https://a.example.com/p?x_unit_sig=***&b=1"


def test_registered_secret_values_are_scrubbed_longest_first() -> None:
    SECRETS.add("unitA-1234", "unitA-1234-longer-secret", "abc")
    assert redact("got unitA-1234-longer-secret and unitA-1234") == "got *** and ***"
    short = "abc is too short to be a registered secret"
    assert redact(short) == short


def test_secret_values_are_scrubbed_from_urls_too() -> None:
    SECRETS.add("unitB-path-secret-77")
    assert "unitB-path-secret-77" not in redact_url("https://api.example.com/keys/unitB-path-secret-77/x")


def test_secret_filter_scrubs_formatted_log_records() -> None:
    SECRETS.add("unitC-logged-secret-99")
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "token %s refused",
                               ("unitC-logged-secret-99",), None)
    assert SecretFilter().filter(record) is True
    assert record.getMessage() == "token *** refused"
    clean = logging.LogRecord("t", logging.INFO, __file__, 1, "page %d", (3,), None)
    SecretFilter().filter(clean)
    assert clean.getMessage() == "page 3"
