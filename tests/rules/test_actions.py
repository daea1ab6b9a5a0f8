"""Actions under `show:` (server/rules/actions.py), as the widget receives them once rendered.

A chat prompt, a coupon offer or a message: each becomes a mapping with its `type`, its texts
rendered from templates (nested fields too: the agent's name, the button's label), its links
as written (only https URLs and site paths get this far) and, for a message, a style (toast
unless the rule says otherwise). `chat: text` and `button: label` are shorthands. A text that
fails to render fails the whole action, so no half-rendered popup ever reaches a visitor.
"""

from __future__ import annotations

import re

import pytest

from server.config import load_config
from server.rules.actions import Action, check_url
from server.rules.templates import RenderError
from tests.helpers import SHOP, write_site

SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
coupons:
  spring10: {{code: SPRING10, discount: 10%オフ}}
"""
SCOPE = {
    "visitor": {"name": "花子", "sessions": 2},
    "page": {"path": "/cart"},
    "coupon": {"code": "SPRING10", "discount": "10%オフ", "expires_at": "2026-06-10"},
}


@pytest.fixture
def action(tmp_path):
    """action(show): the compiled action of a rule whose `show:` is `show` (YAML)."""

    def action(show: str) -> Action:
        write_site(tmp_path, "shop", SITE, **{"rules.yaml": f"rules:\n  - id: r\n    show: {show}\n"})
        config, problems = load_config(tmp_path)
        assert config is not None, problems.lines()
        return config.rules["shop"].by_id["r"].action

    return action


def test_a_chat_prompt_with_an_agent_and_a_button(action):
    chat = action("""
      chat:
        text: "{{ visitor.name }}さん、サイズでお悩みですか？"
        agent: {name: スタッフの佐藤, avatar: /img/sato.png}
        button: {label: 相談する, url: "https://shop.example/contact"}""")
    assert chat.render(SCOPE) == {
        "type": "chat",
        "text": "花子さん、サイズでお悩みですか？",
        "agent": {"name": "スタッフの佐藤", "avatar": "/img/sato.png"},
        "button": {"label": "相談する", "url": "https://shop.example/contact"},
    }


def test_chat_with_only_text_can_be_written_as_the_text(action):
    assert action("{chat: '{{ visitor.name }}さん、こんにちは'}").render(SCOPE) == {
        "type": "chat",
        "text": "花子さん、こんにちは",
    }


def test_a_coupon_offer_names_its_pool_and_renders_its_texts(action):
    coupon = action(
        "{coupon: {pool: spring10, title: 春のクーポン, text: '{{ coupon.discount }}・{{ coupon.expires_at }}まで', button: 使う}}"
    )
    assert coupon.pool == "spring10"
    assert coupon.render(SCOPE) == {
        "type": "coupon",
        "pool": "spring10",
        "title": "春のクーポン",
        "text": "10%オフ・2026-06-10まで",
        "button": {"label": "使う"},
    }


def test_a_message_is_a_toast_unless_the_rule_says_otherwise(action):
    assert action("{message: {title: 送料無料}}").render(SCOPE) == {
        "type": "message",
        "title": "送料無料",
        "style": "toast",
    }
    banner = action(
        "{message: {text: 本日限り, style: banner, image: 'https://cdn.example/sale.png', button: {label: 見る, url: /sale}}}"
    )
    assert banner.render(SCOPE) == {
        "type": "message",
        "text": "本日限り",
        "style": "banner",
        "image": "https://cdn.example/sale.png",
        "button": {"label": "見る", "url": "/sale"},
    }


def test_a_button_can_be_written_as_its_label(action):
    assert action("{message: {text: hi, button: 閉じる}}").render(SCOPE)["button"] == {"label": "閉じる"}
    assert action("{chat: {text: hi, button: '{{ visitor.name }}さん専用'}}").render(SCOPE)["button"] == {
        "label": "花子さん専用"
    }


def test_numbers_written_as_texts_are_texts(action):
    assert action("{message: {title: 2026, text: 3.5}}").render(SCOPE) == {
        "type": "message",
        "title": "2026",
        "text": "3.5",
        "style": "toast",
    }


def test_html_in_a_text_stays_text(action):
    assert action("{chat: '<b>{{ visitor.name }}</b>'}").render({"visitor": {"name": "<script>x</script>"}}) == {
        "type": "chat",
        "text": "<b><script>x</script></b>",
    }


def test_a_text_that_fails_to_render_fails_the_whole_action(action):
    chat = action("{chat: {text: こんにちは, agent: {name: '{{ visitor.agent_name }}'}}}")
    with pytest.raises(RenderError):
        chat.render(SCOPE)


def test_an_action_renders_again_with_another_scope(action):
    chat = action("{chat: '{{ visitor.name }}さん'}")
    assert chat.render(SCOPE)["text"] == "花子さん"
    assert chat.render({"visitor": {"name": "太郎"}})["text"] == "太郎さん"
    assert chat.render(SCOPE)["text"] == "花子さん"  # nothing of one rendering leaks into the next


def test_texts_lists_every_template_of_the_action(action):
    chat = action("{chat: {text: a, agent: {name: b}, button: c}}")
    assert sorted(t.source for t in chat.texts()) == ["a", "b", "c"]


def test_a_coupons_button_can_be_a_link(action):
    coupon = action("{coupon: {pool: spring10, title: 送料無料, button: {label: カートを見る, url: /cart}}}")
    assert coupon.render(SCOPE)["button"] == {"label": "カートを見る", "url": "/cart"}


def test_every_kind_takes_a_placement(action):
    for show in (
        "{chat: {text: hi, placement: bottom-left}}",
        "{coupon: {pool: spring10, placement: top}}",
        "{message: {title: hi, style: banner, placement: bottom}}",
    ):
        assert action(show).render(SCOPE)["placement"] in ("bottom-left", "top", "bottom")


@pytest.mark.parametrize(
    "show, message",
    [
        (
            "{coupon: {pool: spring10, button: {label: x, url: 'javascript:alert(1)'}}}",
            "'javascript:alert(1)' is not an allowed link; use an https:// URL or a path such as /pricing",
        ),
        (
            "{chat: {text: hi, placement: top-right}}",
            "placement 'top-right' is not one of: bottom-right, bottom-left, top, bottom",
        ),
    ],
)
def test_a_bad_coupon_link_or_placement_is_reported_where_it_is(tmp_path, show, message):
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": f"rules:\n  - id: r\n    show: {show}\n"})
    config, problems = load_config(tmp_path)
    assert config is None
    [line] = problems.lines()
    assert re.fullmatch(rf'{tmp_path}/shop/rules\.yaml:3:\d+: rule "r": {re.escape(message)}', line)


@pytest.mark.parametrize(
    "link, allowed",
    [
        ("/pricing", True),
        ("/", True),
        ("https://shop.example/x?y=1#z", True),
        ("http://localhost:8001/", True),
        ("//evil.example/", False),  # another host, whatever the page's scheme
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("\tjavascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("mailto:shop@example.com", False),
        ("https://", False),
        ("pricing", False),
        ("", False),
    ],
)
def test_only_http_links_and_site_paths_are_allowed(link, allowed):
    error = check_url(link)
    assert (error is None) is allowed
    if not allowed:
        assert error == f"'{link}' is not an allowed link; use an https:// URL or a path such as /pricing"
