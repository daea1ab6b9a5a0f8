"""server.chat.tickets: a stream ticket names one visitor of one site and expires.

A ticket verifies for its site until `ttl` seconds have passed, never for another site, never
tampered with; the same ticket is handed out for a minute, then a fresh one is signed.
"""

from __future__ import annotations

from server.chat.tickets import Tickets
from tests.store.test_contract import Clock


def test_a_ticket_verifies_for_its_site_until_it_expires():
    clock = Clock()
    tickets = Tickets("secret", ttl=900, clock=clock)
    ticket = tickets.issue("shop", "visitor-1")
    assert tickets.verify("shop", ticket) == "visitor-1"
    assert tickets.verify("other", ticket) is None
    assert tickets.verify("shop", ticket[:-2] + "xx") is None
    assert tickets.verify("shop", "") is None
    assert Tickets("another-secret", clock=clock).verify("shop", ticket) is None
    clock.now += 901
    assert tickets.verify("shop", ticket) is None


def test_a_visitor_gets_the_same_ticket_for_a_minute_then_a_fresh_one():
    clock = Clock()
    tickets = Tickets("secret", clock=clock)
    first = tickets.issue("shop", "visitor-1")
    clock.now += 59
    assert tickets.issue("shop", "visitor-1") == first
    assert tickets.issue("shop", "visitor-2") != first
    clock.now += 2
    fresh = tickets.issue("shop", "visitor-1")
    assert fresh != first and tickets.verify("shop", fresh) == "visitor-1"
