"""IRASSHAI_WEBHOOK_SECRETS: `site/endpoint=whsec_…`, several per endpoint (space-separated) while
rotating; each whsec_ and base64 of 24 to 64 bytes, as Standard Webhooks writes them. A mistake
is one line naming the entry by number, never its text; the timeout and backoff are positive."""

from __future__ import annotations

import base64

import pytest

from server.settings import SettingsError, load

ONE = "whsec_" + base64.b64encode(b"1" * 32).decode()
TWO = "whsec_" + base64.b64encode(b"2" * 24).decode().rstrip("=")  # unpadded is accepted, as the libraries do


def test_secrets_are_read_per_endpoint_newest_first():
    settings = load({"IRASSHAI_WEBHOOK_SECRETS": f"demo/crm={ONE} {TWO}, demo/slack={TWO}"})
    assert settings.webhook_keys() == {"demo/crm": (b"1" * 32, b"2" * 24), "demo/slack": (b"2" * 24,)}
    assert load({}).webhook_keys() == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("demo=" + ONE, "entry 1 that does not start with site/endpoint="),
        (f"demo/crm={ONE},demo/crm={TWO}", "entry 2 for an endpoint named before"),
        ("demo/crm=whsec_tooshort", "entry 1 with a secret that is not whsec_ and base64 of 24 to 64 bytes"),
        ("demo/crm=" + ONE[6:], "entry 1 with a secret that is not whsec_"),
        ("demo/crm=", "entry 1 without a secret"),
        ("demo/crm=whsec_" + base64.b64encode(b"x" * 65).decode(), "base64 of 24 to 64 bytes"),
    ],
)
def test_a_bad_secret_is_one_line_naming_the_entry_not_its_text(value, expected):
    with pytest.raises(SettingsError) as error:
        load({"IRASSHAI_WEBHOOK_SECRETS": value})
    message = str(error.value)
    assert message.startswith("setting IRASSHAI_WEBHOOK_SECRETS has ") and expected in message
    assert "\n" not in message and ONE[6:] not in message


@pytest.mark.parametrize("name", ["IRASSHAI_WEBHOOK_TIMEOUT", "IRASSHAI_WEBHOOK_BACKOFF"])
def test_timeout_and_backoff_are_positive_seconds(name):
    assert load({name: "0.5"}).webhook_timeout in (0.5, 15.0)
    with pytest.raises(SettingsError, match=f"setting {name} has value 0.0; expected a positive number of seconds"):
        load({name: "0"})
