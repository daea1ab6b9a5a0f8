"""The console's words, in Japanese and English (the operator's `language`)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "console": {"ja": "オペレーター コンソール", "en": "Operator console"},
    "sign_in": {"ja": "サインイン", "en": "Sign in"},
    "sign_in_lead": {
        "ja": "ショップのお客様とのチャットに応対します。",
        "en": "Answer your shop's visitors, in real time.",
    },
    "email": {"ja": "メールアドレス", "en": "Email"},
    "password": {"ja": "パスワード", "en": "Password"},
    "wrong": {"ja": "メールアドレスまたはパスワードが違います。", "en": "Wrong email or password."},
    "too_many": {
        "ja": "サインインの試行が多すぎます。{seconds} 秒後にもう一度お試しください。",
        "en": "Too many sign-in attempts. Try again in {seconds} s.",
    },
    "sign_out": {"ja": "サインアウト", "en": "Sign out"},
    "signed_out": {"ja": "サインアウトしました。", "en": "You are signed out."},
    "inbox": {"ja": "受信箱", "en": "Inbox"},
    "visitors": {"ja": "サイト訪問者", "en": "Live visitors"},
    "site": {"ja": "サイト", "en": "Site"},
    "switch": {"ja": "切り替え", "en": "Switch"},
    "language": {"ja": "English", "en": "日本語"},
    "inbox_empty": {"ja": "まだ会話はありません", "en": "No conversations yet"},
    "inbox_hint": {
        "ja": "お客様がチャットを始めると、ここに表示されます。",
        "en": "When a visitor starts a chat, it appears here.",
    },
    "visitors_empty": {"ja": "今サイトにいる訪問者はいません", "en": "Nobody is on the site right now"},
    "visitors_hint": {
        "ja": "訪問者がページを開くと、ここに表示されます。",
        "en": "Visitors appear here as they browse.",
    },
    "admin": {"ja": "管理者", "en": "Admin"},
    "operator": {"ja": "オペレーター", "en": "Operator"},
    # The live visitors page (templates/visitors.html; visitors.js and visitor.js carry their own words)
    "col_visitor": {"ja": "訪問者", "en": "Visitor"},
    "col_page": {"ja": "閲覧中のページ", "en": "Page"},
    "col_time": {"ja": "滞在時間", "en": "Time on site"},
    "col_device": {"ja": "デバイス", "en": "Device"},
    "col_cart": {"ja": "カート", "en": "Cart"},
    "message_title": {"ja": "メッセージを送る", "en": "Send a message"},
    "message_label": {"ja": "メッセージ", "en": "Message"},
    "message_send": {"ja": "送信", "en": "Send"},
    "message_cancel": {"ja": "キャンセル", "en": "Cancel"},
    "panel": {"ja": "訪問者の情報", "en": "About the visitor"},
}


def texts(language: str) -> dict[str, str]:
    language = language if language in ("ja", "en") else "en"
    return {key: words[language] for key, words in TEXTS.items()}


def language_of(accept_language: str) -> str:
    """ "ja" when the browser asks for Japanese first, else "en" (the sign-in page, before we know who)."""
    first = accept_language.split(",")[0].strip().lower()
    return "ja" if first.startswith("ja") else "en"
