"""The Server-Sent Events wire format: an id line, an event line, one data line per line of
data (so a line break in data never ends the field early), a blank line after each event;
comments start with ':'; single-line fields lose any line break."""

from __future__ import annotations

from server.web import sse


def test_an_event_with_id_and_name():
    assert (
        sse.event('{"a":1}', "message", "1733300000000-0") == b'id: 1733300000000-0\nevent: message\ndata: {"a":1}\n\n'
    )


def test_data_is_only_data_without_id_or_name():
    assert sse.event("hello") == b"data: hello\n\n"


def test_every_kind_of_line_break_in_data_starts_a_data_line_of_its_own():
    assert sse.event("one\ntwo\r\nthree\rfour", "x") == b"event: x\ndata: one\ndata: two\ndata: three\ndata: four\n\n"


def test_an_empty_line_of_data_is_kept():
    assert sse.event("a\n\nb") == b"data: a\ndata: \ndata: b\n\n"


def test_line_breaks_cannot_escape_the_id_or_the_event_name():
    assert sse.event("d", "typ\ning", "1-\r\n0") == b"id: 1-0\nevent: typing\ndata: d\n\n"


def test_text_is_utf8():
    assert sse.event("いらっしゃいませ") == "data: いらっしゃいませ\n\n".encode()


def test_a_comment():
    assert sse.comment("hb") == b": hb\n\n"
    assert sse.comment("a\nb") == b": a\n: b\n\n"
