"""Redis URLs (server/redis_urls.py): a Redis Cluster's nodes and credentials, and URLs as
messages show them, without the password."""

from __future__ import annotations

import pytest

from server.redis_urls import ClusterURL, is_cluster, parse_cluster, redacted
from server.settings import SettingsError, load


def test_a_cluster_url_names_its_nodes_and_credentials():
    assert parse_cluster("redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002") == ClusterURL(
        nodes=(("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002)), username=None, password=None, tls=False
    )
    found = parse_cluster("rediss+cluster://app:p%40ss%2Fw0rd@redis-a,redis-b:6380/0")
    assert found == ClusterURL((("redis-a", 6379), ("redis-b", 6380)), "app", "p@ss/w0rd", tls=True)
    assert parse_cluster("redis+cluster://:secret@h:1").password == "secret"


def test_only_the_cluster_schemes_are_clusters():
    assert is_cluster("redis+cluster://h:1") and is_cluster("REDISS+CLUSTER://h:1")
    assert not is_cluster("redis://h:1/0") and not is_cluster("unix:///tmp/redis.sock")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis+cluster://h:1,h:port", "has node 2 'h:port' that is not host:port"),
        ("redis+cluster://h:1,,h:2", "has node 2 '' that is not host:port"),
        ("redis+cluster://h:70000", "has node 1 'h:70000' that is not host:port"),
        ("redis+cluster://h:1/3", "a Redis Cluster has database 0 only"),
        ("redis+cluster://h:1?ssl_cert_reqs=none", "takes none"),
    ],
)
def test_a_bad_cluster_url_says_what_is_wrong(url, expected):
    with pytest.raises(ValueError, match="^" + "has") as error:
        parse_cluster(url)
    assert expected in str(error.value)


def test_a_bad_cluster_url_is_one_line_naming_the_setting_without_the_password():
    with pytest.raises(SettingsError) as error:
        load({"IRASSHAI_REDIS_URL": "redis+cluster://app:hunter2-secret@h:1,h:x"})
    message = str(error.value)
    assert message.startswith(
        "setting IRASSHAI_REDIS_URL has value 'redis+cluster://app:***@h:1,h:x', which has node 2"
    )
    assert "hunter2" not in message and "\n" not in message


def test_a_cluster_url_is_a_valid_setting():
    url = "redis+cluster://10.0.0.1:6379,10.0.0.2:6379"
    assert load({"IRASSHAI_REDIS_URL": url}).redis_url == url


def test_redacted_hides_only_the_password():
    assert redacted("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redacted("rediss+cluster://app:hunter2@a:1,b:2") == "rediss+cluster://app:***@a:1,b:2"
    assert redacted("redis://cache:6379/0") == "redis://cache:6379/0"
    assert redacted("redis://app@cache:6379/0") == "redis://app@cache:6379/0"
