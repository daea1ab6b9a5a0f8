"""The chat's webhook events: conversation.started|waiting|resolved and message.created, for web
and LINE conversations alike (server/chat/service.py calls these). Duck-typed on the chat's
Conversation and Message (server/chat/model.py), which live in a layer above this one."""

from __future__ import annotations

from server.webhooks import events
from server.webhooks.emit import Webhooks


def channel_of(conversation) -> str:
    """ "web", or "line" for a conversation that came through LINE (its `channel`)."""
    return getattr(conversation, "channel", "") or "web"


async def conversation_changed(webhooks: Webhooks | None, site: str, conversation, *types: str) -> None:
    """conversation.* events of the conversation as it is now, in one store write."""
    if webhooks is None:
        return
    data = events.conversation(
        site,
        conversation.id,
        conversation.visitor,
        conversation.status,
        channel_of(conversation),
        conversation.assignee,
        conversation.rule,
    )
    await webhooks.emit_many(site, [(type, data, conversation.activity) for type in types])


async def message_created(webhooks: Webhooks | None, site: str, conversation, message_id: str, message) -> None:
    if webhooks is None:
        return
    data = events.message(
        site,
        conversation.id,
        conversation.visitor,
        channel_of(conversation),
        message_id,
        message.author,
        message.name,
        message.text,
    )
    await webhooks.emit(site, events.MESSAGE_CREATED, data, message.ts)
