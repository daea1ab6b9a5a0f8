"""Signed visitor ids (server/identity.py): the server issues them, nobody else can forge them.

A token issued for a site verifies back to its visitor id, but only for that site and only
under the same secret key; a tampered, unsigned, empty or missing token does not verify, so
the visitor gets a fresh id. A fresh id derived from a seed (the secret a new visitor's
widget keeps until it has a token) is the same every time, so a retried batch never creates
a second visitor; without a seed ids are random.
"""

from __future__ import annotations

import pytest

from server.identity import VisitorIds

SECRET = "test-secret-key-not-for-production"


@pytest.fixture
def ids() -> VisitorIds:
    return VisitorIds(SECRET)


def test_an_issued_token_verifies_to_its_visitor_id(ids):
    visitor_id, token = ids.issue("shoes")
    assert ids.verify("shoes", token) == visitor_id
    assert visitor_id and visitor_id in token


def test_another_instance_with_the_same_key_verifies_the_token(ids):
    visitor_id, token = ids.issue("shoes")
    assert VisitorIds(SECRET).verify("shoes", token) == visitor_id


def test_a_token_for_another_site_does_not_verify(ids):
    _, token = ids.issue("shoes")
    assert ids.verify("hats", token) is None


def test_a_token_signed_with_another_key_does_not_verify(ids):
    _, token = VisitorIds("some-other-secret").issue("shoes")
    assert ids.verify("shoes", token) is None


def test_a_tampered_token_does_not_verify(ids):
    visitor_id, token = ids.issue("shoes")
    other_id, _ = ids.issue("shoes")
    signature = token[len(visitor_id) :]
    assert ids.verify("shoes", other_id + signature) is None
    dot = token.index(".")
    changed_signature = token[: dot + 1] + ("A" if token[dot + 1] != "A" else "B") + token[dot + 2 :]
    assert ids.verify("shoes", changed_signature) is None
    changed_id = ("A" if token[0] != "A" else "B") + token[1:]
    assert ids.verify("shoes", changed_id) is None


@pytest.mark.parametrize("token", ["", None, "just-an-id", "just-an-id.", ".", "a.b.c"])
def test_unsigned_empty_or_missing_tokens_do_not_verify(ids, token):
    assert ids.verify("shoes", token) is None


def test_a_seed_always_gives_the_same_visitor(ids):
    first = ids.issue("shoes", seed="event-000001")
    assert ids.issue("shoes", seed="event-000001") == first
    assert VisitorIds(SECRET).issue("shoes", seed="event-000001") == first
    assert ids.verify("shoes", first[1]) == first[0]


def test_different_seeds_sites_or_keys_give_different_visitors(ids):
    visitor_id, _ = ids.issue("shoes", seed="event-000001")
    assert ids.issue("shoes", seed="event-000002")[0] != visitor_id
    assert ids.issue("hats", seed="event-000001")[0] != visitor_id
    assert VisitorIds("some-other-secret").issue("shoes", seed="event-000001")[0] != visitor_id


def test_without_a_seed_every_visitor_is_new(ids):
    visitor_ids = {ids.issue("shoes")[0] for _ in range(100)}
    assert len(visitor_ids) == 100


def test_visitor_ids_are_url_safe_and_unpadded(ids):
    for seed in (None, "event-000001"):
        visitor_id, _ = ids.issue("shoes", seed)
        assert len(visitor_id) == 22  # 16 random bytes
        assert set(visitor_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_secret_key_is_required():
    with pytest.raises(ValueError, match="secret key is required"):
        VisitorIds("")
