"""Settings (server/settings.py): one table of (name, default, help), read once into a frozen struct.

`load` reads the IRASSHAI_* variables from the mapping it is given (never os.environ) and
falls back to the table's defaults. A value it cannot use is a SettingsError whose message
is one line naming the variable and the value; overrides from the command line are checked
the same way and name the flag the user typed. `to_env` gives back an environment that
loads to the same settings. Every setting is in the table, with help, and in the docs.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from server.settings import SETTINGS, Settings, SettingsError, load

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_with_no_variables_every_setting_has_its_default():
    settings = load({})
    assert settings == Settings()
    for setting in SETTINGS:
        assert getattr(settings, setting.name) == setting.default


def test_variables_are_read_and_converted():
    settings = load(
        {
            "IRASSHAI_SECRET_KEY": "s3cret",
            "IRASSHAI_RULES_DIR": "/srv/rules",
            "IRASSHAI_REDIS_URL": "redis://cache:6379/1",
            "IRASSHAI_HOST": "0.0.0.0",
            "IRASSHAI_PORT": " 9000 ",
            "IRASSHAI_WORKERS": "4",
            "IRASSHAI_SHOP_PORT": "9001",
            "IRASSHAI_SESSION_TIMEOUT": "3600",
            "IRASSHAI_RELOAD_INTERVAL": "0.5",
            "IRASSHAI_LOG_LEVEL": "DEBUG",
            "PATH": "/usr/bin",  # not ours: ignored
        }
    )
    assert settings == Settings(
        secret_key="s3cret",
        rules_dir="/srv/rules",
        redis_url="redis://cache:6379/1",
        host="0.0.0.0",
        port=9000,
        workers=4,
        shop_port=9001,
        session_timeout=3600,
        reload_interval=0.5,
        log_level="debug",
    )


def test_settings_are_frozen():
    settings = load({})
    with pytest.raises(AttributeError):
        settings.port = 1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("IRASSHAI_PORT", "eighty", "a whole number"),
        ("IRASSHAI_PORT", "8000.5", "a whole number"),
        ("IRASSHAI_PORT", "", "a whole number"),
        ("IRASSHAI_PORT", "70000", "a port from 1 to 65535"),
        ("IRASSHAI_SHOP_PORT", "0", "a port from 1 to 65535"),
        ("IRASSHAI_WORKERS", "0", "1 or more"),
        ("IRASSHAI_SESSION_TIMEOUT", "30", "at least 60 seconds"),
        ("IRASSHAI_RELOAD_INTERVAL", "soon", "a number"),
        ("IRASSHAI_RELOAD_INTERVAL", "-1", "a positive number"),
        ("IRASSHAI_LOG_LEVEL", "loud", "one of debug, info, warning, error"),
        ("IRASSHAI_REDIS_TIMEOUT", "0", "a positive number of seconds"),
        ("IRASSHAI_REDIS_TIMEOUT", "inf", "a positive number of seconds"),
        ("IRASSHAI_REDIS_TIMEOUT", "2s", "a number"),
        (
            "IRASSHAI_REDIS_URL",
            "localhost:6379",
            "a redis://, rediss:// or unix:// URL, or redis+cluster://host:port,host:port for a Redis Cluster",
        ),
        ("IRASSHAI_LINE_API", "api.line.me", "a base URL such as https://api.line.me"),
        ("IRASSHAI_LINE_ACCESS", "https://access.line.me/dialog?x", "a base URL such as https://api.line.me"),
        ("IRASSHAI_LOG_FORMAT", "xml", "text or json"),
        ("IRASSHAI_METRICS_PORT", "70000", "0 (no metrics listener) or a port up to 65535"),
        ("IRASSHAI_SHUTDOWN_TIMEOUT", "0", "a positive number of seconds"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_the_value(variable, value, expected):
    with pytest.raises(SettingsError) as error:
        load({variable: value})
    message = str(error.value)
    assert message.startswith(f"setting {variable} has value ")
    assert value.strip() in message
    assert message.endswith(f"; expected {expected}")
    assert "\n" not in message


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_the_reload_interval_must_be_a_finite_number(value):
    with pytest.raises(SettingsError, match="IRASSHAI_RELOAD_INTERVAL"):
        load({"IRASSHAI_RELOAD_INTERVAL": value})


def test_replace_applies_overrides_and_ignores_none():
    base = load({"IRASSHAI_PORT": "9000", "IRASSHAI_HOST": "0.0.0.0"})
    changed = base.replace(port=9100, host=None, rules_dir="/srv/rules", workers=None, log_level="WARNING")
    assert (changed.port, changed.host, changed.rules_dir, changed.workers) == (9100, "0.0.0.0", "/srv/rules", 1)
    assert changed.log_level == "warning"
    assert base.port == 9000  # the original is untouched


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [
        ({"port": 0}, "--port"),
        ({"shop_port": 70000}, "--shop-port"),
        ({"workers": 0}, "--workers"),
        ({"redis_url": "localhost:6379"}, "--redis"),
    ],
)
def test_replace_errors_name_the_command_line_flag(overrides, flag):
    [(name, value)] = overrides.items()
    with pytest.raises(SettingsError) as error:
        Settings().replace(**overrides)
    assert str(error.value).startswith(f"setting {flag} has value {value!r}; expected ")


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(
            secret_key="s3cret",
            rules_dir="/srv/rules",
            redis_url="unix:///run/redis.sock",
            host="::",
            port=1,
            workers=8,
            shop_port=65535,
            session_timeout=60,
            reload_interval=0.25,
            log_level="error",
        ),
    ],
)
def test_to_env_loads_back_to_the_same_settings(settings):
    environ = settings.to_env()
    assert all(name.startswith("IRASSHAI_") and isinstance(value, str) for name, value in environ.items())
    assert load(environ) == settings


def test_every_field_is_in_the_settings_table_with_help_and_the_same_default():
    fields = {field.name: field.default for field in msgspec.structs.fields(Settings)}
    table = {setting.name: setting for setting in SETTINGS}
    assert list(table) == list(fields)
    for name, default in fields.items():
        setting = table[name]
        assert setting.default == default and type(setting.default) is type(default), name
        assert setting.help.strip(), f"{name} has no help text"
        assert setting.env == f"IRASSHAI_{name.upper()}"


def test_every_setting_is_documented():
    assert DOCS.is_file(), f"{DOCS} is missing: it documents every IRASSHAI_* variable"
    text = DOCS.read_text(encoding="utf-8")
    undocumented = [setting.env for setting in SETTINGS if setting.env not in text]
    assert undocumented == []


def test_line_secrets_and_tokens_are_per_site_and_reported_by_entry_never_by_text():
    settings = load(
        {"IRASSHAI_LINE_SECRETS": "shop=" + "a" * 32, "IRASSHAI_LINE_TOKENS": "shop=tok/en+with==" + "x" * 20}
    )
    assert settings.line_secrets_by_site() == {"shop": "a" * 32}
    assert settings.line_tokens_by_site() == {"shop": "tok/en+with==" + "x" * 20}  # base64 tokens keep their '='
    with pytest.raises(SettingsError) as error:
        load({"IRASSHAI_LINE_TOKENS": "shop=short-secret"})
    assert "entry 1" in str(error.value) and "short-secret" not in str(error.value)


@pytest.mark.parametrize("token", ["short-token", "a token with spaces in it"])
def test_a_bad_metrics_token_is_reported_without_its_text(token):
    with pytest.raises(SettingsError) as error:
        load({"IRASSHAI_METRICS_TOKEN": token})
    message = str(error.value)
    assert message.startswith("setting IRASSHAI_METRICS_TOKEN has a value that is not 16 or more printable")
    assert token not in message and "\n" not in message


def test_log_format_and_metrics_port_come_from_flags_too():
    settings = load({"IRASSHAI_LOG_FORMAT": "JSON"}).replace(metrics_port=9464)
    assert (settings.log_format, settings.metrics_port, settings.metrics_host) == ("json", 9464, "127.0.0.1")
    with pytest.raises(SettingsError, match="^setting --log-format has value 'xml'"):
        load({}).replace(log_format="xml")
