"""Marketers' text templates (server/rules/templates.py): Jinja2 in a sandbox, plain text out.

`{{ visitor.name }}さん` and `{% if %}` work; loops, macros, includes and filters outside a
short list are refused when the rules are checked. Rendering gives plain text (HTML stays
literal: the widget sets textContent), stripped, at most 1000 characters. A value that is not
there raises RenderError (so the rule is skipped, never shown with a hole) unless `default`
fills it. Nothing in a template reaches Python internals, and no template, however written,
can make the server build a huge string or number: rendering is bounded by the template
(a `set` cannot build on a `set` name, and every text, list or number an operator or `join`
builds is capped). A dot or a subscript reads data only: `visitor.items` is the visitor's
attribute `items`, never a Python method, for every value a template is given.
"""

from __future__ import annotations

import tracemalloc
from zoneinfo import ZoneInfo

import pytest

from server.engage import Coupon, scope
from server.rules.facts import Facts
from server.rules.templates import ALLOWED_FILTERS, MAX_OUTPUT, RenderError, Template, compile_template
from server.sites import Site
from server.visitor import VisitorState

VISITOR = {"visitor": {"name": "花子", "sessions": 3, "returning": True, "cart_value": 12800, "tags": ["vip", "tops"]}}


def render(source: str, scope: dict | None = None) -> str:
    template, error = compile_template(source)
    assert error is None, error
    return template.render(VISITOR if scope is None else scope)


def refused(source: str, scope: dict | None = None) -> bool:
    """Refused when the rules are checked, or failing with RenderError when rendered."""
    template, error = compile_template(source)
    if error is not None:
        return True
    try:
        template.render(VISITOR if scope is None else scope)
    except RenderError:
        return True
    return False


# What marketers write


@pytest.mark.parametrize(
    "source, expected",
    [
        ("{{ visitor.name }}さん、おかえりなさい", "花子さん、おかえりなさい"),
        ("{{ visitor['name'] }}さん", "花子さん"),
        ("{% if visitor.returning %}おかえりなさい{% else %}いらっしゃいませ{% endif %}", "おかえりなさい"),
        ("{{ visitor.sessions + 1 }}回目のご来店", "4回目のご来店"),
        ("{% set n = visitor.name %}{{ n }}様", "花子様"),
        ("{{ visitor.name ~ '様' }}", "花子様"),
        ("{{ visitor.tags | join('・') }}", "vip・tops"),
        ("{{ visitor.tags | length }}", "2"),
        ("{{ visitor.tags | first | upper }}", "VIP"),
        ("{{ 'spring sale' | title }}", "Spring Sale"),
        ("{{ 'とても長い説明文です' | truncate(5, true, '…', 0) }}", "とても長…"),
        ("{{ 3.14159 | round(2) }}", "3.14"),
        ("{{ visitor.tags[0] }}・{{ visitor.tags[-1] }}", "vip・tops"),
        ("{{ visitor.name[:1] }}様", "花様"),
    ],
)
def test_templates_render_what_the_marketer_meant(source, expected):
    assert render(source) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (12800, "¥12,800"),
        (1280.6, "¥1,281"),
        (0, "¥0"),
        (1234567, "¥1,234,567"),
        ("お問い合わせ", "お問い合わせ"),  # not a number: left as it is
        (True, "True"),  # a flag is not an amount
    ],
)
def test_yen_formats_amounts(value, expected):
    assert render("{{ price | yen }}", {"price": value}) == expected


def test_plain_text_is_returned_as_written():
    assert render("送料無料まであと少し！", {}) == "送料無料まであと少し！"


def test_html_stays_literal_text():
    # The widget puts the text in with textContent: nothing is escaped and nothing is markup.
    assert render("<b>セール</b>", {}) == "<b>セール</b>"
    assert (
        render("<b>{{ name }}</b>", {"name": "<img src=x onerror=alert(1)>"}) == "<b><img src=x onerror=alert(1)></b>"
    )
    assert render("{{ name }} & co", {"name": "A&B"}) == "A&B & co"


def test_a_comment_is_not_shown_to_visitors():
    # A note left for colleagues must not reach the page, with or without other template code.
    assert render("いらっしゃいませ{# 春のキャンペーン用 #}", {}) == "いらっしゃいませ"
    assert render("{# note #}{{ visitor.name }}さん") == "花子さん"


def test_rendered_text_is_stripped_and_none_renders_empty():
    assert render("  {{ visitor.name }}さん \n") == "花子さん"
    assert render("[{{ nothing }}]", {"nothing": None}) == "[]"


# Missing values


@pytest.mark.parametrize("source", ["{{ visitor.nickname }}さん", "{{ coupon.code }}", "{{ visitor.name.first }}"])
def test_a_missing_value_raises_render_error(source):
    with pytest.raises(RenderError):
        render(source)


def test_render_error_says_what_is_missing():
    with pytest.raises(RenderError, match="'dict object' has no attribute 'nickname'"):
        render("{{ visitor.nickname }}さん")


@pytest.mark.parametrize(
    "source, expected",
    [
        ("{{ visitor.nickname | default('お客様') }}さん", "お客様さん"),
        ("{{ visitor.nickname | d('お客様') }}さん", "お客様さん"),
        ("{{ visitor.name | default('お客様') }}さん", "花子さん"),
        ("{% if visitor.nickname is defined %}{{ visitor.nickname }}{% else %}あなた{% endif %}", "あなた"),
    ],
)
def test_default_fills_a_missing_value(source, expected):
    assert render(source) == expected


# Refused when the rules are checked


@pytest.mark.parametrize(
    "source, what",
    [
        ("{% for tag in visitor.tags %}{{ tag }}{% endfor %}", "loops"),
        ("{% macro hello() %}hi{% endmacro %}{{ hello() }}", "macros"),
        ("{% call caller() %}x{% endcall %}", "call blocks"),
        ("{% include 'other.txt' %}", "include"),
        ("{% import 'macros.txt' as m %}", "import"),
        ("{% from 'macros.txt' import m %}", "import"),
        ("{% extends 'base.txt' %}", "extends"),
        ("{% filter upper %}hi{% endfilter %}", "filter blocks"),
        ("{% with a = visitor.name %}{{ a }}{% endwith %}", "with blocks"),
        ("{% block greeting %}hi{% endblock %}", "blocks"),
        ("{% set a %}{{ visitor.name }}{% endset %}", "set blocks ({% set %}…{% endset %})"),
        ("{% autoescape true %}{{ visitor.name }}{% endautoescape %}", "autoescape blocks"),
        ("{% set ns.a = 1 %}", "namespaces"),
    ],
)
def test_statements_beyond_if_and_set_are_refused(source, what):
    assert compile_template(source) == (
        None,
        f"template uses {what}, which rule texts do not allow; use {{{{ value }}}}, {{% if %}} and "
        "{% set name = value %} (template line 1)",
    )


@pytest.mark.parametrize(
    "name",
    [
        "replace",
        "center",
        "format",
        "indent",
        "wordwrap",
        "map",
        "attr",
        "pprint",
        "safe",
        "tojson",
        "urlize",
        "xmlattr",
        "batch",
        "list",
        "sort",
    ],
)
def test_filters_outside_the_allowed_list_are_refused(name):
    template, error = compile_template(f"{{{{ visitor.name | {name} }}}}")
    assert template is None and error.startswith(f"template uses filter '{name}', which rule texts do not allow")


def test_the_allowed_filters_are_accepted():
    for name in ALLOWED_FILTERS:
        template, error = compile_template(f"{{{{ value | {name} }}}}")
        assert error is None, name


def test_a_syntax_error_names_the_template_line():
    assert compile_template("こんにちは\n{{ visitor.name ") == (
        None,
        "template does not compile: unexpected end of template, expected 'end of print statement'. (template line 2)",
    )


# The sandbox


@pytest.mark.parametrize(
    "source",
    [
        "{{ visitor.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ visitor.name.__class__.__base__ }}",
        "{{ visitor.items.__globals__ }}",
        "{{ visitor.__init__.__globals__['os'] }}",
    ],
)
def test_no_attribute_reaches_python_internals(source):
    template, error = compile_template(source)
    if error is not None:  # calls are refused when the rules are checked
        assert "calls a function or method" in error
        return
    with pytest.raises(RenderError, match="SecurityError|UndefinedError"):
        template.render(VISITOR)


@pytest.mark.parametrize("name", ["range", "lipsum", "cycler", "joiner", "namespace", "dict", "config"])
def test_there_are_no_globals(name):
    with pytest.raises(RenderError):
        render(f"{{{{ {name} }}}}")


def test_strings_and_lists_built_with_star_are_capped():
    assert render("{{ '=' * 1000 }}", {}) == "=" * 1000
    for source in ("{{ 'ab' * 600 }}", "{{ 600 * 'ab' }}", "{{ 'a' * 10 ** 20 }}", "{{ ('ab' * 500) * 2 }}"):
        with pytest.raises(RenderError, match="result too long"):
            render(source, {})
    with pytest.raises(RenderError, match="repeating lists is not allowed"):
        render("{{ [0] * 3 }}", {})


def test_exponents_are_capped():
    assert render("{{ 2 ** 64 }}", {}) == str(2**64)
    with pytest.raises(RenderError, match="power too large"):
        render("{{ 2 ** 65 }}", {})


def test_output_is_capped_at_1000_characters():
    assert len(render("{{ 'あ' * 1000 }}", {})) == MAX_OUTPUT
    with pytest.raises(RenderError, match="rendered text is longer than 1000 characters, the limit"):
        render("{{ 'a' * 1000 }}b", {})
    with pytest.raises(RenderError, match="rendered text is longer than 1000 characters"):
        render("{% set x = 'a' * 1000 %}{{ x }}{{ x }}", {})


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x'.ljust(5000) | length }}",  # string methods: ljust, center, zfill...
        "{{ 'x'.replace('x', 'xxxxxxxxxx').replace('x', 'xxxxxxxxxx').replace('x', 'xxxxxxxxxx').replace('x', 'xxxxxxxxxx') | length }}",
        "{{ ('%05000d' % 1) | length }}",  # printf-style padding
        "{{ '{:>5000}'.format(1) | length }}",
        "{{ ([[0] * 1000] * 1000) | string | length }}",  # a list of long lists
        "{{ 9 ** 64 ** 64 ** 64 > 0 }}",  # every exponent small, the number huge
    ],
)
def test_no_template_builds_a_huge_value_even_when_its_output_is_short(source):
    # The output cap only looks at the result; these build millions of characters (or a
    # 800,000-bit number) on the way, and a few more steps of the same make the server run
    # out of memory or time. They must be refused or fail like `'ab' * 600` does.
    assert refused(source, {})


def test_a_template_object_renders_again_and_again():
    template = Template("{{ visitor.name }}さん")
    assert [template.render(VISITOR) for _ in range(3)] == ["花子さん"] * 3
    assert template.render({"visitor": {"name": "太郎"}}) == "太郎さん"


# The outside probe (issue 15, item 8): a short template must not grow without bound

PROBE = "{% set a = 'aaaaaaaaaa' %}" + "{% set a = a ~ a %}" * 44 + "{{ a | length }}"  # 10 * 2**44 characters


def peak_bytes(run) -> int:
    """Peak memory Python allocated while run() ran (tracemalloc; deterministic, not a timing)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_probes_doubling_template_is_refused_by_the_checker():
    assert 850 < len(PROBE) < 900
    assert compile_template(PROBE) == (
        None,
        (
            "template sets 'a' from 'a', a name the template sets; build each set value from visitor, page, "
            "coupon and site, so no text can double itself (template line 1)"
        ),
    )


@pytest.mark.parametrize(
    "source, line",
    [
        ("{% set a = visitor.name %}\n{% set b = a ~ a %}", 2),  # a new name built from a set one
        ("{% set a = visitor.name %}{% set b, c = a, a %}", 1),
        ("{% if visitor.returning %}\n{% set a = 'x' %}\n{% else %}\n{% set a = a ~ a %}{% endif %}", 4),
    ],
)
def test_a_set_built_from_a_set_name_is_refused_with_its_line(source, line):
    template, error = compile_template(source)
    assert template is None and error.startswith("template sets ") and error.endswith(f"(template line {line})")


@pytest.mark.parametrize(
    "source, expected",
    [
        ("{% set n = visitor.name %}{{ n ~ n }}", "花子花子"),
        (
            "{% if visitor.returning %}{% set g = 'おかえり' %}{% else %}{% set g = 'ようこそ' %}{% endif %}{{ g }}",
            "おかえり",
        ),
        ("{% set a, b = visitor.name, visitor.sessions %}{{ a }}{{ b }}", "花子3"),
    ],
)
def test_set_from_visitor_values_still_works(source, expected):
    assert render(source) == expected


def test_the_probes_template_is_stopped_while_rendering_too_with_little_memory():
    # Template() skips the checker: the sandbox alone must stop the doubling.
    errors = []

    def run():
        with pytest.raises(RenderError, match="result too long") as caught:
            Template(PROBE).render({})
        errors.append(caught.value)

    assert peak_bytes(run) < 2_000_000 and errors


NESTED_JOIN = "{{ " + "[1, 1, 1] | join(" * 25 + "'ab'" + ")" * 25 + " | length }}"  # 2**26 characters


@pytest.mark.parametrize(
    "source, scope, message",
    [
        (NESTED_JOIN, {}, "result too long"),  # each join repeats its separator
        (
            "{{ visitor.bio | join('-') | length }}",
            {"visitor": {"bio": "x" * 600}},
            "result too long",
        ),  # a text is a list of characters
        ("{{ (('a' * 1000) ~ 'b') | length }}", {}, "result too long"),
        ("{{ ('a' * 1000 + 'b') | length }}", {}, "result too long"),
        ("{{ (visitor.tags + visitor.tags) | length }}", {"visitor": {"tags": list(range(600))}}, "result too long"),
        ("{{ (2 ** 64 * 2 ** 64 * 2 ** 64 * 2 ** 64 * 2 ** 64) > 0 }}", {}, "number too large"),
        ("{{ visitor.tags | string | length }}", {"visitor": {"tags": ["x" * 900, "y" * 900]}}, "result too long"),
        ("{{ 1.5 | round(200, 'ceil') }}", {}, "round takes a precision from -20 to 20"),  # builds 10**200
        ("{{ 1234 | round(-200) }}", {}, "round takes a precision from -20 to 20"),
    ],
)
def test_values_a_template_builds_are_capped_at_render_time(source, scope, message):
    # Each passes the checker; rendering stops at the first value over the cap.
    template, error = compile_template(source)
    assert error is None, error
    errors = []

    def run():
        with pytest.raises(RenderError, match=message) as caught:
            template.render(scope)
        errors.append(caught.value)

    assert peak_bytes(run) < 2_000_000 and errors


def test_output_stops_at_the_cap_instead_of_being_built_whole():
    source = "{% set x = 'a' * 1000 %}" + "{{ x }}" * 400  # 400,000 characters if joined
    template, error = compile_template(source)
    assert error is None, error
    errors = []

    def run():
        with pytest.raises(RenderError, match="rendered text is longer than 1000 characters"):
            template.render({})
        errors.append(True)

    assert peak_bytes(run) < 200_000 and errors


@pytest.mark.parametrize(
    "source",
    [
        "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
        "{{ " + "-" * 5000 + "1 }}",
        "{{ " + "[" * 2000 + "]" * 2000 + " }}",
        "{% if " + "not " * 3000 + "1 %}x{% endif %}",
    ],
)
def test_a_deeply_nested_template_is_refused_not_crashing_the_checker(source):
    assert compile_template(source) == (None, "template nests too deeply; split it into simpler parts")


# The outside probe (issue 15, item 9): attributes are data, never Python methods

DICT_METHODS = ["items", "values", "get", "keys", "pop", "update", "copy", "clear", "setdefault", "popitem", "fromkeys"]


def real_scope(attributes: dict) -> dict:
    """What the server gives templates (server.engage.scope), for a visitor with these attributes."""
    site = Site(key="demo", name="布と日々", origins=frozenset(), timezone=ZoneInfo("Asia/Tokyo"))
    facts = Facts(VisitorState(sessions=2, attributes=attributes), 0.0, "/pricing", site, "visitor")
    return scope(facts, Coupon("SPRING10", "10%オフ", 0))


@pytest.mark.parametrize("name", DICT_METHODS)
def test_an_attribute_named_like_a_dict_method_renders_its_value(name):
    values = real_scope({name: "値"})
    assert render(f"{{{{ visitor.{name} }}}}", values) == "値"
    assert render(f"{{{{ visitor['{name}'] }}}}", values) == "値"
    assert render(f"{{% if visitor.{name} == '値' %}}yes{{% endif %}}", values) == "yes"


@pytest.mark.parametrize("group", ["visitor", "page", "coupon", "site"])
@pytest.mark.parametrize("name", DICT_METHODS)
def test_without_such_an_attribute_it_is_missing_never_a_method(group, name):
    values = real_scope({})
    with pytest.raises(RenderError, match=f"has no attribute '{name}'"):
        render(f"{{{{ {group}.{name} }}}}", values)
    assert render(f"[{{{{ {group}.{name} | default('') }}}}]", values) == "[]"
    assert render(f"{{{{ {group}['{name}'] is defined }}}}", values) == "False"


@pytest.mark.parametrize(
    "expression",
    [
        "visitor.name.upper",
        "visitor.name.format",
        "visitor.name.split",
        "visitor['name']['upper']",
        "visitor.tags.append",
        "visitor.tags.count",
        "visitor.tags.index",
        "visitor.sessions.real",
        "visitor.sessions.bit_length",
        "visitor.returning.conjugate",
        "coupon.code.lower",
        "page.path.startswith",
        "site.name.encode",
        "visitor.tags | first | attr",
        "(visitor.tags | first).upper",
    ],
)
def test_no_value_shows_a_python_attribute_or_method(expression):
    values = {**real_scope({"name": "花子", "tags": ["vip"]})}
    template, error = compile_template(f"{{{{ {expression} | default('none') }}}}")
    if error is not None:  # e.g. the attr filter: refused when the rules are checked
        return
    assert template.render(values) == "none"
