"""The settings' values that are more than a number or a word: site secrets, webhook signing
secrets, networks, each parsed into what the server uses, and the one error every setting's
mistake is (:class:`SettingsError`, one line naming the setting). Split from server.settings,
which reads the table and calls these."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

SITE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # server.sites.SITE_KEY, not imported: settings load first
MIN_SITE_SECRET = 16


class SettingsError(Exception):
    """A setting has a value we cannot use; the message is one line for the user."""


def parse_site_secrets(text: str, name: str) -> dict[str, str]:
    """`site=secret,site2=secret2` as a dict. Errors name the variable and the entry by number,
    never its text: a mistyped entry may be all secret."""
    expected = "expected site=secret,site2=secret2"
    secrets: dict[str, str] = {}
    entries: dict[str, int] = {}
    for number, entry in enumerate(text.split(","), start=1):
        if not entry.strip():
            continue
        site, equals, secret = (part.strip() for part in entry.partition("="))
        if not equals:
            raise SettingsError(f"setting {name} has entry {number} without '='; {expected}")
        if not SITE_KEY.match(site):
            raise SettingsError(
                f"setting {name} has entry {number} that does not start with a site key "
                f"(lower-case letters, digits, '-' or '_'); {expected}"
            )
        if site in secrets:
            raise SettingsError(
                f"setting {name} has entries {entries[site]} and {number} for the same site; {expected}"
            )
        if len(secret) < MIN_SITE_SECRET:
            raise SettingsError(
                f"setting {name} has entry {number} with a secret shorter than {MIN_SITE_SECRET} "
                f"characters; {expected}, each secret long and random"
            )
        secrets[site], entries[site] = secret, number
    return secrets


WEBHOOK_SECRET_PREFIX = "whsec_"  # as Standard Webhooks writes a secret
WEBHOOK_KEY_BYTES = (24, 64)


def parse_webhook_secrets(text: str, name: str) -> dict[str, tuple[bytes, ...]]:
    """`site/endpoint=whsec_… whsec_…,…` as "site/endpoint" -> decoded keys. Errors name the entry
    by number, never its text."""
    expected = "expected site/endpoint=whsec_…, several secrets of one endpoint space-separated"
    keys: dict[str, tuple[bytes, ...]] = {}
    for number, entry in enumerate(text.split(","), start=1):
        if not entry.strip():
            continue
        target, equals, secrets = (part.strip() for part in entry.partition("="))
        site, slash, endpoint = target.partition("/")
        if not equals or not slash or not SITE_KEY.match(site) or not SITE_KEY.match(endpoint):
            raise SettingsError(
                f"setting {name} has entry {number} that does not start with site/endpoint=; {expected}"
            )
        if target in keys:
            raise SettingsError(f"setting {name} has entry {number} for an endpoint named before; {expected}")
        decoded = []
        for secret in secrets.split():
            key = _webhook_key(secret)
            if key is None:
                low, high = WEBHOOK_KEY_BYTES
                raise SettingsError(
                    f"setting {name} has entry {number} with a secret that is not whsec_ and base64 of "
                    f"{low} to {high} bytes; make one with: python3 -c 'import base64, secrets; "
                    f'print("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())\''
                )
            decoded.append(key)
        if not decoded:
            raise SettingsError(f"setting {name} has entry {number} without a secret; {expected}")
        keys[target] = tuple(decoded)
    return keys


def _webhook_key(secret: str) -> bytes | None:
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        return None
    text = secret[len(WEBHOOK_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    low, high = WEBHOOK_KEY_BYTES
    return key if low <= len(key) <= high else None


def parse_networks(text: str, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise SettingsError(
                    f"setting {name} has entry {entry!r}; expected an IP address or a "
                    "network such as 10.0.0.0/8, comma-separated"
                ) from None
    return tuple(networks)
