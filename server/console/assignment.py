"""Who answers a waiting conversation: round-robin among online operators with room, else the queue.

An operator has room while they hold fewer than the site's ``console.capacity`` conversations in
``waiting`` or ``open``. Among those with room, the one assigned least recently goes first (the
``assigned`` second of their conversations; never assigned goes first of all, then by email):
round-robin that every process agrees on, with no key of its own. A conversation still
``waiting`` past ``console.reassign_after`` after its assignment (its operator never answered),
or whose operator is no longer online, is offered to another when one has room; otherwise it
stays where it is. ChatService applies the choice (``ChatService.rebalance``, docs/chat.md).

Two processes assigning at the same instant may each give one conversation to the same
operator, who then holds one over capacity until they resolve one; nothing is lost.
"""

from __future__ import annotations

from server.chat.model import Conversation
from server.sites import Site

ACTIVE = ("waiting", "open")


class RoundRobin:
    def choose(self, site: Site, online: list[str], active: list[Conversation], exclude: str = "") -> str:
        load = {email: 0 for email in online}
        last = {email: 0.0 for email in online}
        for conversation in active:
            if conversation.assignee in load and conversation.status in ACTIVE:
                load[conversation.assignee] += 1
                last[conversation.assignee] = max(last[conversation.assignee], conversation.assigned)
        room = [email for email in online if email != exclude and load[email] < site.console.capacity]
        return min(room, key=lambda email: (last[email], email), default="")

    def due(self, site: Site, conversation: Conversation, online: list[str], now: float) -> bool:
        if conversation.status != "waiting":
            return False
        if not conversation.assignee or conversation.assignee not in online:
            return True
        return now - conversation.assigned > site.console.reassign_after
