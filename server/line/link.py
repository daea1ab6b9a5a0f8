"""LINE's account-link flow: a LINE user linked to the shop's signed-in web visitor (docs/line.md).

1. A user adds the shop as a friend (``follow``); with ``link: true`` in site.yaml, Irasshai asks
   LINE for a link token for them and answers the follow with the shop's ``link_page`` URL,
   carrying ``linkToken`` (and ``openExternalBrowser=1``, so it opens in the phone's browser,
   where the shop's web visitor is).
2. The shop's link page signs the customer in as it always does and calls
   ``irasshai('lineLink', linkToken, {id, hash})``: the widget posts the visitor's token, the
   link token and the proof of the customer id (as ``identify`` takes it) to
   POST /v1/sites/{site}/line/link. Irasshai checks the proof, keeps a fresh nonce for that web
   visitor and customer (single use, NONCE_TTL), and answers with LINE's account-link URL
   (``…/dialog/bot/accountLink?linkToken=…&nonce=…``), where the widget sends the browser.
3. LINE checks that the link token belongs to the user who opens it and sends an
   ``accountLink`` event with the nonce; Irasshai takes the nonce (once) and links the LINE
   visitor to the web visitor and customer, both ways, with a note in the conversation.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode

from server.chat.service import ChatService
from server.line import texts, users
from server.line.api import LineApi
from server.line.wire import Link
from server.sites import Site
from server.verified_identity import WrongProof, proven

log = logging.getLogger("irasshai.line")

NONCE_TTL = 600  # seconds: as long as LINE's link token is valid
NONCE = re.compile(r"^[A-Za-z0-9_-]{10,255}$")
LINK_TOKEN = re.compile(r"^[A-Za-z0-9_-]{10,255}$")


class LinkRefused(Exception):
    """A link request Irasshai refuses: `str(error)` is one line, `status` its HTTP status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class Links:
    def __init__(
        self,
        chat: ChatService,
        api: LineApi,
        tokens: Mapping[str, str],
        identity_secrets: Mapping[str, str],
        access: str,
        clock: Callable[[], float],
    ):
        self.chat = chat
        self.store = chat.store
        self.api = api
        self.tokens = tokens
        self.identity_secrets = identity_secrets
        self.access = access.rstrip("/")  # IRASSHAI_LINE_ACCESS
        self.clock = clock

    async def invite(self, site: Site, user_id: str, reply_token: str) -> None:
        """Answer a follow with the link page's URL and a fresh link token (in the background)."""
        token = self.tokens.get(site.key)
        if token is None or site.line is None or not reply_token:
            return
        link_token = await self.api.link_token(token, user_id)
        if not link_token:
            return
        page = site.line.link_page
        url = page + ("&" if "?" in page else "?") + urlencode({"linkToken": link_token, "openExternalBrowser": "1"})
        answer = await self.api.reply(token, reply_token, [texts.note("invite", site.language, url=url)])
        if answer.status != 200:
            log.warning("site %s: LINE link invitation not sent: %s", site.key, answer.error or answer.status)

    async def nonce(self, site: Site, web_visitor: str, link_token: str, customer: str, hash: str, jwt: str) -> str:
        """LINE's account-link URL for this signed-in web visitor; LinkRefused when the proof is missing or wrong."""
        if not LINK_TOKEN.match(link_token):
            raise LinkRefused("link_token must be the linkToken LINE gave (from the link page's URL)", 400)
        if not customer or len(customer) > 128:
            raise LinkRefused("customer must be the signed-in customer's id (1 to 128 characters)", 400)
        secret = self.identity_secrets.get(site.key)
        if secret is None:
            raise LinkRefused(
                f"site '{site.key}' has no identity secret (IRASSHAI_IDENTITY_SECRETS) to prove its customers with", 403
            )
        try:
            if not proven(secret, customer, hash, jwt, self.clock()):
                raise LinkRefused(
                    "send the proof that the customer is signed in: hash or jwt, as identify takes them", 403
                )
        except WrongProof as error:
            raise LinkRefused(str(error), 403) from None
        nonce = secrets.token_urlsafe(32)
        record = json.dumps({"web": web_visitor, "customer": customer}).encode()
        await self.store.claim(site.key, f"line-nonce:{nonce}", record, NONCE_TTL)
        return f"{self.access}/dialog/bot/accountLink?linkToken={quote(link_token)}&nonce={nonce}"

    async def linked(self, site: Site, line_visitor: str, link: Link, conversation: str) -> None:
        """An accountLink event: link the LINE visitor to the web visitor its nonce was issued for."""
        found = await self.store.take(site.key, f"line-nonce:{link.nonce}") if NONCE.match(link.nonce) else None
        if link.result != "ok" or found is None:
            failure = "link_failed" if link.result != "ok" else "link_unknown"
            await self.chat.note(site, conversation, texts.note(failure, site.language))
            return
        record = json.loads(found)
        web, customer = str(record["web"]), str(record["customer"])
        now = self.clock()
        await users.write(self.store, site.key, line_visitor, site.retention, web=web, customer=customer, linked=now)
        await self.store.set_chat(site.key, web, {"line_visitor": line_visitor}, site.retention)
        await self.chat.note(site, conversation, texts.note("linked", site.language, customer=customer))
