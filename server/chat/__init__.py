"""Live chat: conversations between a visitor and the shop (docs/chat.md)."""
