"""Who is online per site: an operator is online while their console stream is open and they are not away.

The console's stream calls :meth:`Presence.touch` every 15 s; an entry expires ONLINE_FOR (45) s
after its last touch, so a closed tab drops out within a minute. Away and sign-out keep the
operator remembered with an expiry of now, so the site still "uses the console": a site is in
use while any operator of it was online within keys.PRESENCE_TTL (30 days). ChatService asks
:meth:`answering`: None for a site not in use (business hours decide, as without a console),
else whether anyone is online (docs/chat.md, "Presence").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from server.store import keys
from server.store.base import Store

ONLINE_FOR = 45  # seconds after the last touch


class Presence:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    async def touch(self, site: str, email: str, away: bool = False) -> None:
        now = self.clock()
        await self.store.set_presence(site, email, now if away else now + ONLINE_FOR, keys.PRESENCE_TTL)

    async def leave(self, site: str, email: str) -> None:
        await self.store.set_presence(site, email, self.clock(), keys.PRESENCE_TTL)

    async def online(self, site: str) -> list[str]:
        """The emails of the site's operators online now, sorted."""
        now = self.clock()
        return sorted(email for email, until in (await self.store.read_presence(site)).items() if until > now)

    async def answering(self, site: str) -> list[str] | None:
        """None when the site's operators never signed in (within 30 days), else those online now."""
        remembered = await self.store.read_presence(site)
        if not remembered:
            return None
        now = self.clock()
        return sorted(email for email, until in remembered.items() if until > now)
