"""Device type and language from what the browser tells us (server/devices.py).

Phones are 'mobile', tablets 'tablet', everything else 'desktop' (an iPad on iPadOS 13 or
later says it is a Mac, so it counts as desktop). The language is the visitor's main tag,
lower-case with '-' (``ja-jp``): the one the widget reports, else the first of the browser's
Accept-Language, else '' when neither is a language tag.
"""

from __future__ import annotations

import pytest

from server.devices import device_type, language

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_FIREFOX_PHONE = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
KINDLE_FIRE = (
    "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/124.2.1 like Chrome/124.0.6367.118 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1"
)
IPADOS_AS_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
DESKTOP_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (IPHONE, "mobile"),
        (ANDROID_PHONE, "mobile"),
        (ANDROID_FIREFOX_PHONE, "mobile"),
        (ANDROID_TABLET, "tablet"),
        (KINDLE_FIRE, "tablet"),
        (IPAD, "tablet"),
        (IPADOS_AS_MAC, "desktop"),
        (DESKTOP_CHROME, "desktop"),
        (DESKTOP_FIREFOX, "desktop"),
        ("", "desktop"),
    ],
)
def test_device_type_from_real_user_agents(user_agent, device):
    assert device_type(user_agent) == device


@pytest.mark.parametrize(
    ("reported", "accept_language", "expected"),
    [
        ("ja-JP", "en-US,en;q=0.9", "ja-jp"),  # what the widget reports wins
        ("", "en-US,en;q=0.9,ja;q=0.8", "en-us"),
        ("", "ja;q=0.9", "ja"),
        ("ja_JP", "", "ja-jp"),
        ("zh-Hant-TW", "", "zh-hant-tw"),
        ("", "", ""),
        ("", "*", ""),
        ("<script>", "", ""),
        ("", "english", ""),
    ],
)
def test_language_is_the_main_tag_in_lower_case(reported, accept_language, expected):
    assert language(reported, accept_language) == expected
