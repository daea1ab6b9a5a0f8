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
    # The marketer's pages (admins only): rules, a rule's results, the site overview, the preview.
    # Keys starting with "n_" are handed to insights.js (templates: data-texts), without the prefix.
    "rules": {"ja": "ルール", "en": "Rules"},
    "overview": {"ja": "サイト概要", "en": "Site overview"},
    "preview": {"ja": "プレビュー", "en": "Preview"},
    "forbidden": {"ja": "このページは管理者専用です", "en": "This page is for admins"},
    "forbidden_hint": {
        "ja": "ルールと成果のページは管理者 (admin) のみが見られます。サイトの管理者に依頼してください。",
        "en": "Rules and results are for operators with the admin role. Ask an admin of this site.",
    },
    "rules_version": {"ja": "稼働中のルールのバージョン", "en": "Live rules version"},
    "rules_count": {"ja": "{enabled} 件が有効・全 {total} 件", "en": "{enabled} enabled of {total}"},
    "reload_failed": {
        "ja": "前回の再読み込みは失敗しました。以前のバージョンが稼働しています。ルールチェッカーの指摘:",
        "en": "The last reload failed, so the previous version stays live. What the checker said:",
    },
    "no_rules": {"ja": "このサイトにはルールがありません", "en": "This site has no rules"},
    "no_rules_hint": {
        "ja": "rules/{site}/ に YAML ファイルでルールを書くと、ここに表示されます。",
        "en": "Write rules in a YAML file under rules/{site}/ and they appear here.",
    },
    "col_rule": {"ja": "ルール", "en": "Rule"},
    "col_show": {"ja": "表示", "en": "Shows"},
    "col_file": {"ja": "ファイル", "en": "File"},
    "col_priority": {"ja": "優先度", "en": "Priority"},
    "col_limit": {"ja": "上限", "en": "Limit"},
    "col_holdout": {"ja": "ホールドアウト", "en": "Holdout"},
    "col_goal": {"ja": "ゴール", "en": "Goal"},
    "col_state": {"ja": "状態", "en": "State"},
    "col_settings": {"ja": "設定", "en": "Settings"},
    "enabled": {"ja": "有効", "en": "Enabled"},
    "disabled": {"ja": "無効", "en": "Disabled"},
    "site_default": {"ja": "サイト既定", "en": "site default"},
    "no_goal": {"ja": "なし", "en": "none"},
    "results": {"ja": "成果", "en": "Results"},
    "results_range": {
        "ja": "成果は直近 {n} 日 ({start} – {end})",
        "en": "Results of the last {n} days ({start} – {end})",
    },
    "control_group": {"ja": "コントロール群", "en": "control group"},
    "control_converted": {"ja": "{decided} 件中 {converted}", "en": "{converted} of {decided}"},
    "limit_session": {"ja": "セッションごとに {n} 回", "en": "{n} per session"},
    "limit_visitor": {"ja": "訪問者ごとに {n} 回", "en": "{n} per visitor"},
    "limit_within": {"ja": "訪問者ごとに {within}で {n} 回", "en": "{n} per visitor within {within}"},
    "range_from": {"ja": "開始日", "en": "From"},
    "range_to": {"ja": "終了日", "en": "To"},
    "range_show": {"ja": "表示", "en": "Show"},
    "range_days": {"ja": "直近 {n} 日", "en": "Last {n} days"},
    "preview_title": {"ja": "ルールのプレビュー", "en": "Rule preview"},
    "preview_lead": {
        "ja": "訪問者の行動をルールテストの形式 (*.test.yaml の steps) で書くと、稼働中のルールで各ステップに何が表示されるかを確かめられます。"
        "実際の訪問者やデータには一切触れません。ホールドアウトは無効で、表示される側の体験を再現します。",
        "en": "Write a visitor's steps in the rule-test format (the steps of a *.test.yaml) to see what the live rules "
        "show at each step. No real visitor or stored data is touched. Holdouts are off: you see what the shown group sees.",
    },
    "preview_steps": {"ja": "ステップ", "en": "Steps"},
    "preview_run": {"ja": "プレビューする", "en": "Run preview"},
    "preview_errors": {"ja": "ステップを読めませんでした:", "en": "The steps could not be read:"},
    "preview_step": {"ja": "ステップ", "en": "Step"},
    "preview_does": {"ja": "内容", "en": "What happens"},
    "preview_shown": {"ja": "表示されるルール", "en": "Rule shown"},
    "preview_expect": {"ja": "期待", "en": "Expected"},
    "preview_nothing": {"ja": "なし", "en": "nothing"},
    "preview_ok": {"ja": "期待どおり", "en": "as expected"},
    "preview_mismatch": {"ja": "期待と異なる", "en": "not as expected"},
    "preview_failed": {"ja": "このステップは送信できません: {error}", "en": "This step cannot be sent: {error}"},
    "preview_bot": {"ja": "ボットの答え", "en": "Bot's answer"},
    "preview_version": {"ja": "ルールのバージョン {version} で実行", "en": "Run on rules version {version}"},
    "results_title": {"ja": "ルールの成果", "en": "Rule results"},
    "rule_gone": {
        "ja": "このルールは現在のルールファイルにありません。記録された数値だけを表示します。",
        "en": "This rule is no longer in the rule files; only the numbers recorded for it are shown.",
    },
    "overview_title": {"ja": "サイト概要", "en": "Site overview"},
    # insights.js and results.js (handed over without the "n_" prefix)
    "n_loading": {"ja": "読み込み中…", "en": "Loading…"},
    "n_failed": {"ja": "読み込めませんでした: {error}", "en": "Could not load: {error}"},
    "n_empty": {"ja": "この期間のデータはありません", "en": "No data in this range"},
    "n_csv": {"ja": "CSV をダウンロード", "en": "Download CSV"},
    "n_show_table": {"ja": "表を表示 ({rows} 行)", "en": "Show the table ({rows} rows)"},
    "n_chart_of": {
        "ja": "{title} のグラフ。同じ数値を下の表に示します。",
        "en": "Chart of {title}; the table below has the same numbers.",
    },
    "n_count": {"ja": "件数", "en": "Count"},
    "n_totals": {"ja": "期間の合計", "en": "Totals for the range"},
    "n_uplift": {"ja": "効果 (コントロール群との比較)", "en": "Uplift (against the control group)"},
    "n_goal": {"ja": "ゴール: {goal}", "en": "Goal: {goal}"},
    "n_holdout": {"ja": "ホールドアウト: {share}", "en": "Holdout: {share}"},
    "n_no_goal": {
        "ja": "ゴールがありません。site.yaml に goals: を書くと、コンバージョンと効果を測れます。",
        "en": "No goal: add goals: to site.yaml to count conversions and measure uplift.",
    },
    "n_no_holdout": {
        "ja": "コントロール群がありません。ルールか site.yaml に holdout: 10% のように書くと、効果を測れます。",
        "en": "No control group: add holdout: 10% to the rule or to site.yaml to measure uplift.",
    },
    "n_not_enough": {
        "ja": "データ不足: どちらの群にも、もっと多くの判定とコンバージョンが必要です。まだ効果の数値は出せません。",
        "en": "Not enough data: both groups need more decisions and conversions before an uplift can be given.",
    },
    "n_srm": {
        "ja": "注意: コントロール群の割合が {observed} で、設定の {expected} と合いません (p = {p})。振り分けに問題がある可能性があり、効果の数値は信頼できません。",
        "en": "Warning: the control group is {observed} of decisions, not the configured {expected} (p = {p}). "
        "The split may be broken, so do not trust the uplift until this is explained.",
    },
    "n_treatment": {"ja": "表示群", "en": "Shown group"},
    "n_control": {"ja": "コントロール群 (非表示)", "en": "Control group (held out)"},
    "n_decisions": {"ja": "判定数", "en": "Decisions"},
    "n_converted": {"ja": "コンバージョン", "en": "Converted"},
    "n_rate": {"ja": "コンバージョン率", "en": "Conversion rate"},
    "n_value_mean": {"ja": "判定あたりの価値", "en": "Value per decision"},
    "n_absolute": {"ja": "コンバージョン率の差", "en": "Difference in conversion rate"},
    "n_relative": {"ja": "相対的な効果", "en": "Relative uplift"},
    "n_value": {"ja": "判定あたりの価値の差", "en": "Difference in value per decision"},
    "n_interval": {"ja": "95% 信頼区間 {low} 〜 {high}", "en": "95% interval {low} to {high}"},
    "n_points": {"ja": "ポイント", "en": " pt"},
    "n_measure": {"ja": "指標", "en": "Measure"},
    "n_estimate": {"ja": "推定値", "en": "Estimate"},
    "c_day": {"ja": "日付", "en": "Day"},
    "c_decided": {"ja": "対象 (判定)", "en": "Eligible (decided)"},
    "c_held_out": {"ja": "ホールドアウト", "en": "Held out"},
    "c_shown": {"ja": "表示", "en": "Shown"},
    "c_clicked": {"ja": "クリック", "en": "Clicked"},
    "c_dismissed": {"ja": "閉じた", "en": "Dismissed"},
    "c_copied": {"ja": "コピー", "en": "Copied"},
    "c_converted": {"ja": "コンバージョン", "en": "Converted"},
    "c_converted_held_out": {"ja": "コンバージョン (ホールドアウト)", "en": "Converted (held out)"},
    "c_value": {"ja": "価値", "en": "Value"},
    "c_value_held_out": {"ja": "価値 (ホールドアウト)", "en": "Value (held out)"},
    "c_device": {"ja": "デバイス", "en": "Device"},
    "c_hour": {"ja": "時", "en": "Hour"},
    "c_page": {"ja": "ページ", "en": "Page"},
    "c_path": {"ja": "ページ", "en": "Page"},
    "c_views": {"ja": "閲覧数", "en": "Views"},
    "c_median_seconds_on_page": {"ja": "滞在時間 (中央値)", "en": "Median time on page"},
    "c_page_views": {"ja": "ページビュー", "en": "Page views"},
    "c_visitors": {"ja": "訪問者", "en": "Visitors"},
    "c_sessions": {"ja": "セッション", "en": "Sessions"},
    "c_engagements_shown": {"ja": "エンゲージメント表示", "en": "Engagements shown"},
    "c_conversions": {"ja": "コンバージョン", "en": "Conversions"},
    "c_weekday": {"ja": "曜日", "en": "Weekday"},
    "c_entrances": {"ja": "入口になった回数", "en": "Entrances"},
    "c_conversions_per_engagement_shown": {
        "ja": "表示あたりのコンバージョン",
        "en": "Conversions per engagement shown",
    },
    "c_referrer": {"ja": "参照元", "en": "Referrer"},
    "c_source": {"ja": "参照元", "en": "Source"},
    "c_utm_source": {"ja": "UTM ソース", "en": "UTM source"},
    "c_rule": {"ja": "ルール", "en": "Rule"},
    "c_uplift": {"ja": "効果", "en": "Uplift"},
    "c_low": {"ja": "下限", "en": "Low"},
    "c_high": {"ja": "上限", "en": "High"},
    "t_funnel": {"ja": "日別のファネル", "en": "Funnel per day"},
    "t_by_device": {"ja": "デバイス別", "en": "By device"},
    "t_by_hour": {"ja": "時間帯別 (サイトのタイムゾーン)", "en": "By hour of day (site's timezone)"},
    "t_by_page": {"ja": "ページ別 (判定されたページ)", "en": "By page (where decided)"},
    "t_daily": {"ja": "日別の訪問", "en": "Visits per day"},
    "t_daily_engagements": {
        "ja": "日別のエンゲージメントとコンバージョン",
        "en": "Engagements and conversions per day",
    },
    "t_pages": {"ja": "よく見られたページ", "en": "Most viewed pages"},
    "t_hours": {"ja": "時間帯別のセッション", "en": "Sessions by hour of day"},
    "t_weekdays": {"ja": "曜日別のセッション", "en": "Sessions by weekday"},
    "t_devices": {"ja": "デバイス", "en": "Devices"},
    "t_referrers": {"ja": "参照元", "en": "Referrers"},
    "t_utm_sources": {"ja": "UTM ソース", "en": "UTM sources"},
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


def insight_texts(language: str) -> dict[str, str]:
    """The words insights.js and results.js need: "n_" words without the prefix, column ("c_")
    and table ("t_") names with theirs."""
    words = texts(language)
    return {
        key[2:] if key.startswith("n_") else key: text for key, text in words.items() if key[:2] in ("n_", "c_", "t_")
    }
