"""The words Irasshai writes about LINE: system notes in a conversation (read by operators) and the
account-link invitation (read by the LINE user), in the site's language (ja or en)."""

from __future__ import annotations

NOTES: dict[str, dict[str, str]] = {
    "follow": {"ja": "LINEで友だち追加されました。", "en": "Added the shop as a friend on LINE."},
    "unfollow": {
        "ja": "LINEでブロック（友だち解除）されました。返信はLINEに届きません。",
        "en": "Blocked the shop on LINE (unfollowed): replies cannot reach them there.",
    },
    "unsupported": {
        "ja": "LINEで{kind}が送られました。この受信箱では表示できないため、LINE公式アカウントのチャットでご確認ください。",
        "en": "Sent {kind} on LINE, which the inbox cannot show; see it in the LINE Official Account's chat.",
    },
    "undelivered": {
        "ja": "LINEに届けられませんでした（{reason}）：「{text}」",
        "en": "Not delivered to LINE ({reason}): “{text}”",
    },
    "linked": {
        "ja": "LINEアカウントがショップの会員（{customer}）と連携されました。",
        "en": "Their LINE account was linked to the shop's customer {customer}.",
    },
    "link_failed": {
        "ja": "LINEアカウントの連携はできませんでした（LINEが失敗を通知しました）。",
        "en": "Their LINE account was not linked (LINE reports that it failed).",
    },
    "link_unknown": {
        "ja": "LINEアカウントの連携はできませんでした（連携の確認コードが不明か、期限切れです）。",
        "en": "Their LINE account was not linked (the nonce is unknown or expired).",
    },
    "invite": {
        "ja": "友だち追加ありがとうございます。ショップの会員アカウントと連携すると、ご注文やお問い合わせの対応がスムーズになります。こちらから連携できます（10分間有効）：{url}",
        "en": "Thanks for adding us! Link your shop account for smoother help with orders and questions "
        "(valid for 10 minutes): {url}",
    },
}

KINDS: dict[str, dict[str, str]] = {
    "image": {"ja": "画像", "en": "an image"},
    "video": {"ja": "動画", "en": "a video"},
    "audio": {"ja": "音声メッセージ", "en": "a voice message"},
    "file": {"ja": "ファイル", "en": "a file"},
    "location": {"ja": "位置情報", "en": "a location"},
    "sticker": {"ja": "スタンプ", "en": "a sticker"},
}
OTHER_KIND = {"ja": "メッセージ", "en": "a message"}
PLACEHOLDER = {"ja": "［{kind}］", "en": "[{kind}]"}  # the visitor's message standing for it in the inbox


def note(name: str, language: str, **values: str) -> str:
    words = NOTES[name]
    return words.get(language, words["en"]).format(**values)


def kind(name: str, language: str) -> str:
    words = KINDS.get(name, OTHER_KIND)
    return words.get(language, words["en"])
