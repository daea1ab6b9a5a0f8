"""Verified identity (server/verified_identity.py), and identify through the event endpoint.

`irasshai('identify', {id, …, hash | jwt})`: a hash that is the hex HMAC-SHA256 of the id
under the site's identity secret verifies the visitor; so does an HS256 JWT with that secret,
`sub` the id and `exp` still ahead. Wrong proof (another id's hash, another secret, an expired
or unsigned JWT, another algorithm) is refused with 403 and one line naming the event, and one
line in the server log; the other events of the batch are not lost (the widget drops the
named one and sends them again). An identify without proof is kept, unverified. Rules with
`visitor: {verified: true}` show only to verified visitors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import pytest
from starlette.testclient import TestClient

from server.verified_identity import WrongProof, identity_hash, proven
from tests.helpers import batch, event_id, make_app, page_view, post, stored_profile, write_site

SECRET = "shop-identity-secret-0123456789"
NOW = 1_780_000_000.0


def jwt(claims: dict, secret: str = SECRET, header: dict | None = None) -> str:
    """An HS256 JWT, made here with the standard library as a shop's server would (RFC 7519)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        part(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode()) + "." + part(json.dumps(claims).encode())
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


# ---- The proof ----


def test_a_good_hash_is_verified():
    digest = hmac.new(SECRET.encode(), b"C-1001", hashlib.sha256).hexdigest()  # what the shop's server computes
    assert identity_hash(SECRET, "C-1001") == digest
    assert proven(SECRET, "C-1001", digest, "", NOW) is True
    assert proven(SECRET, "C-1001", digest.upper(), "", NOW) is True  # hex in either case


@pytest.mark.parametrize(
    "customer, digest",
    [
        ("C-1002", identity_hash(SECRET, "C-1001")),  # another customer's hash
        ("C-1001", identity_hash("another-secret-0123456789", "C-1001")),
        ("C-1001", "not a hash"),
    ],
)
def test_a_wrong_hash_is_refused_with_one_line(customer, digest):
    with pytest.raises(WrongProof) as refused:
        proven(SECRET, customer, digest, "", NOW)
    assert str(refused.value) == (
        f"hash does not match id '{customer}': expected the hex HMAC-SHA256 of the id with the site's identity secret"
    )
    assert SECRET not in str(refused.value)


def test_no_proof_or_no_secret_leaves_the_identity_unverified():
    assert proven(SECRET, "C-1001", "", "", NOW) is False
    assert proven(None, "C-1001", identity_hash(SECRET, "C-1001"), "", NOW) is False


def test_a_jwt_with_the_sites_secret_and_exp_ahead_is_verified():
    assert proven(SECRET, "C-1001", "", jwt({"sub": "C-1001", "exp": NOW + 60}), NOW) is True


@pytest.mark.parametrize(
    "token, problem",
    [
        (jwt({"sub": "C-1001", "exp": NOW}), "jwt expired 0 s ago"),
        (jwt({"sub": "C-1001", "exp": NOW - 3600}), "jwt expired 3600 s ago"),
        (jwt({"sub": "C-1001"}), "jwt has no exp"),
        (jwt({"sub": "C-1001", "exp": True}), "jwt has no exp"),
        (jwt({"sub": "C-1002", "exp": NOW + 60}), "jwt is for sub 'C-1002', not for id 'C-1001'"),
        (jwt({"exp": NOW + 60}), "jwt has no sub"),
        (jwt({"sub": "C-1001", "exp": NOW + 60}, "another-secret-0123456789"), "jwt signature does not match"),
        (jwt({"sub": "C-1001", "exp": NOW + 60}, header={"alg": "none"}), "jwt alg is 'none'; only HS256"),
        (jwt({"sub": "C-1001", "exp": NOW + 60}, header={"alg": "HS512"}), "jwt alg is 'HS512'; only HS256"),
        (jwt({"sub": "C-1001", "exp": NOW + 60}).rsplit(".", 1)[0] + ".", "jwt signature does not match"),
        ("a.b", "jwt is not a JWT"),
        ("!!!.e30.c2ln", "jwt header is not base64url"),
        (base64.urlsafe_b64encode(b"[1]").decode().rstrip("=") + ".e30.c2ln", "jwt header is not a JSON object"),
    ],
)
def test_a_jwt_past_exp_or_otherwise_wrong_is_refused(token, problem):
    with pytest.raises(WrongProof) as refused:
        proven(SECRET, "C-1001", "", token, NOW)
    assert str(refused.value).startswith(problem)
    assert "\n" not in str(refused.value)


# ---- Through the event endpoint ----


def identify(customer: str, **fields) -> dict:
    attributes = fields.pop("attributes", {})
    return {
        "type": "identify",
        "id": event_id(),
        "ts": int(time.time() * 1000),
        "customer": customer,
        "attributes": attributes,
        **fields,
    }


GREETING = """\
rules:
  - id: greet-verified
    when: {visitor: {verified: true, name: {exists: true}}}
    show: {chat: "{{ visitor.name }}様、おかえりなさいませ"}
"""


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    write_site(tmp_path, **{"rules.yaml": GREETING})
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    app = make_app(tmp_path, request.param, redis_url, identity_secrets=f"shop={SECRET}")
    with TestClient(app) as client:
        yield client


def test_a_good_hash_verifies_the_visitor_and_rules_with_verified_true_show(client):
    proof = identity_hash(SECRET, "C-1001")
    reply = post(client, batch(identify("C-1001", hash=proof, attributes={"name": "花子"}), page_view("/")))
    assert reply.status_code == 200, reply.text
    assert reply.json()["show"]["rule"] == "greet-verified"
    assert reply.json()["show"]["text"] == "花子様、おかえりなさいませ"
    state = stored_profile(client, reply.json()["visitor"])
    assert (state.customer, state.verified, state.attributes) == ("C-1001", True, {"name": "花子"})


def test_an_identity_without_proof_is_kept_unverified_and_verified_rules_do_not_show(client):
    reply = post(client, batch(identify("C-1001", attributes={"name": "花子"}), page_view("/")))
    assert reply.status_code == 200, reply.text
    assert "show" not in reply.json()
    state = stored_profile(client, reply.json()["visitor"])
    assert (state.customer, state.verified, state.attributes) == ("C-1001", False, {"name": "花子"})


def test_a_later_identify_of_the_same_customer_without_proof_keeps_the_proof_another_customer_does_not(client):
    token = post(client, batch(identify("C-1001", hash=identity_hash(SECRET, "C-1001")))).json()["visitor"]
    post(client, batch(identify("C-1001"), visitor=token))
    assert stored_profile(client, token).verified is True
    post(client, batch(identify("C-2002"), visitor=token))
    state = stored_profile(client, token)
    assert (state.customer, state.verified) == ("C-2002", False)


def test_a_wrong_hash_is_refused_naming_the_event_and_logged_and_the_rest_of_the_batch_goes_through(client, caplog):
    view, bad = page_view("/"), identify("C-1001", hash=identity_hash(SECRET, "C-9999"))
    with caplog.at_level(logging.WARNING, logger="irasshai.ingest"):
        refused = post(client, batch(view, bad))
    assert refused.status_code == 403
    assert refused.json() == {
        "error": f"event 1 (id {bad['id']}): identify refused: hash does not match id 'C-1001': "
        "expected the hex HMAC-SHA256 of the id with the site's identity secret",
        "event": 1,
        "id": bad["id"],
    }
    logged = [r.getMessage() for r in caplog.records if "identify refused" in r.getMessage()]
    assert logged == ["site shop: identify refused: " + refused.json()["error"].split("identify refused: ")[1]]
    # What the widget does next: drop the named event, send the others again.
    again = post(client, batch(view))
    assert again.status_code == 200 and again.json()["acked"] == [view["id"]]
    state = stored_profile(client, again.json()["visitor"])
    assert (state.customer, state.verified, list(state.page_views)) == ("", False, ["/"])


def test_a_jwt_past_exp_is_refused_and_a_fresh_one_verifies(client):
    expired = identify("C-1001", jwt=jwt({"sub": "C-1001", "exp": time.time() - 5}))
    refused = post(client, batch(expired))
    assert refused.status_code == 403
    assert "identify refused: jwt expired" in refused.json()["error"]
    fresh = identify("C-1001", jwt=jwt({"sub": "C-1001", "exp": time.time() + 300}))
    reply = post(client, batch(fresh))
    assert reply.status_code == 200, reply.text
    assert stored_profile(client, reply.json()["visitor"]).verified is True


def test_verified_is_the_servers_to_set_not_an_attribute(client):
    forged = {"type": "set", "id": event_id(), "ts": int(time.time() * 1000), "attributes": {"verified": True}}
    refused = post(client, batch(forged))
    assert refused.status_code == 422
    assert "attribute 'verified' is the server's to set" in refused.json()["error"]
    assert post(client, batch(identify("C-1", attributes={"verified": True}))).status_code == 422


def test_a_site_without_an_identity_secret_keeps_proven_identities_unverified_and_says_so(tmp_path, caplog):
    write_site(tmp_path, **{"rules.yaml": GREETING})
    with TestClient(make_app(tmp_path)) as client, caplog.at_level(logging.WARNING, logger="irasshai.ingest"):
        reply = post(client, batch(identify("C-1001", hash=identity_hash(SECRET, "C-1001"))))
        assert reply.status_code == 200, reply.text
        assert stored_profile(client, reply.json()["visitor"]).verified is False
    assert any("IRASSHAI_IDENTITY_SECRETS has no secret for the site" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"customer": ""}, "Expected `str` of length >= 1 - at `$.customer`"),
        ({"customer": "x" * 129}, "Expected `str` of length <= 128 - at `$.customer`"),
        ({"hash": "0" * 129}, "Expected `str` of length <= 128 - at `$.hash`"),
    ],
)
def test_a_malformed_identify_gets_400_naming_it(client, fields, problem):
    event = {**identify("C-1"), **fields}
    refused = post(client, batch(page_view("/"), event))
    assert refused.status_code == 400
    assert refused.json()["event"] == 1 and problem in refused.json()["error"]
