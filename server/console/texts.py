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
    # The inbox (inbox.html, inbox.js: the keys starting with "i_" are handed to the page's script)
    "i_waiting": {"ja": "対応待ち", "en": "Waiting"},
    "i_mine": {"ja": "自分が対応中", "en": "Open — mine"},
    "i_others": {"ja": "他の担当者が対応中", "en": "Open — others'"},
    "i_bot": {"ja": "ボット対応中", "en": "With the bot"},
    "i_resolved": {"ja": "解決済み", "en": "Resolved"},
    "i_pick": {"ja": "会話を選んでください", "en": "Choose a conversation"},
    "i_pick_hint": {
        "ja": "左の一覧から会話を選ぶと、ここにメッセージが表示されます。",
        "en": "Pick one from the list to read and answer it.",
    },
    "i_visitor": {"ja": "訪問者", "en": "Visitor"},
    "i_you": {"ja": "あなた", "en": "You"},
    "i_bot_name": {"ja": "ボット", "en": "Bot"},
    "i_reply": {"ja": "返信", "en": "Reply"},
    "i_reply_label": {"ja": "返信を入力", "en": "Write a reply"},
    "i_reply_hint": {"ja": "Enter で送信、Shift+Enter で改行", "en": "Enter to send, Shift+Enter for a new line"},
    "i_send": {"ja": "送信", "en": "Send"},
    "i_take": {"ja": "担当する", "en": "Take"},
    "i_assign": {"ja": "担当を変更", "en": "Assign to"},
    "i_resolve": {"ja": "解決済みにする", "en": "Resolve"},
    "i_reopen": {"ja": "再開する", "en": "Reopen"},
    "i_typing": {"ja": "入力中…", "en": "typing…"},
    "i_seen": {"ja": "既読", "en": "Seen"},
    "i_unassigned": {"ja": "未割り当て", "en": "Unassigned"},
    "i_assigned_to": {"ja": "担当: {name}", "en": "Assigned to {name}"},
    "i_none": {"ja": "ありません", "en": "None"},
    "i_away": {"ja": "離席中", "en": "Away"},
    "i_online": {"ja": "対応可能", "en": "Online"},
    "i_offline": {"ja": "接続が切れました。再接続しています…", "en": "Connection lost. Reconnecting…"},
    "i_notify": {"ja": "通知をオンにする", "en": "Turn on notifications"},
    "i_notify_on": {"ja": "通知オン", "en": "Notifications on"},
    "i_notify_new": {"ja": "新しいメッセージ", "en": "New message"},
    "i_failed": {"ja": "送信できませんでした: {error}", "en": "Could not send: {error}"},
    "i_resolved_note": {"ja": "この会話は解決済みです。", "en": "This conversation is resolved."},
    "i_status_bot": {"ja": "ボット", "en": "Bot"},
    "i_status_waiting": {"ja": "対応待ち", "en": "Waiting"},
    "i_status_open": {"ja": "対応中", "en": "Open"},
    "i_status_resolved": {"ja": "解決済み", "en": "Resolved"},
    "i_conversations": {"ja": "会話", "en": "Conversations"},
    "i_title": {"ja": "待ち {waiting}・未読 {unread}", "en": "{waiting} waiting · {unread} unread"},
    "i_visitor_panel": {"ja": "訪問者の情報", "en": "About the visitor"},
    "i_line": {"ja": "LINE", "en": "LINE"},
    "i_line_label": {"ja": "LINEからの会話", "en": "Conversation on LINE"},
    "i_line_user": {"ja": "LINEユーザー", "en": "LINE user"},
    "i_line_reply": {"ja": "LINEで返信（友だちに届きます）", "en": "Reply on LINE (sent to their LINE app)"},
}


def texts(language: str) -> dict[str, str]:
    language = language if language in ("ja", "en") else "en"
    return {key: words[language] for key, words in TEXTS.items()}


def language_of(accept_language: str) -> str:
    """ "ja" when the browser asks for Japanese first, else "en" (the sign-in page, before we know who)."""
    first = accept_language.split(",")[0].strip().lower()
    return "ja" if first.startswith("ja") else "en"


def inbox_texts(language: str) -> dict[str, str]:
    """The words inbox.js needs, without their "i_" prefix."""
    return {key[2:]: text for key, text in texts(language).items() if key.startswith("i_")}
