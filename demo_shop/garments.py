"""Product pictures, drawn as SVG: a flat garment silhouette in the product's colour.

Each garment is an outline path plus detail strokes on a 400×500 canvas (the 4:5 ratio of the
shop's product cards). Details are drawn in darker shades of the garment's own colour, so every
colour in the catalogue gets a consistent look without hand-picked palettes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

WIDTH, HEIGHT = 400, 500

Shades = dict[str, str]


class Drawing(NamedTuple):
    outline: str
    details: str
    # Drawn before the body, e.g. a hood that the body's neckline overlaps.
    behind: str = ""


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(max(part, 0), 255)):02x}" for part in rgb)


def _mix(colour: str, other: str, amount: float) -> str:
    """`amount` of `other` mixed into `colour` (0 keeps `colour`, 1 gives `other`)."""
    a, b = _rgb(colour), _rgb(other)
    return _hex(tuple(x + (y - x) * amount for x, y in zip(a, b, strict=True)))


def _luminance(colour: str) -> float:
    red, green, blue = _rgb(colour)
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def _shades(colour: str) -> Shades:
    light = _luminance(colour) > 0.7
    return {
        "fill": colour,
        "detail": _mix(colour, "#000000", 0.22 if light else 0.3),
        "outline": _mix(colour, "#000000", 0.3 if light else 0.4),
        "highlight": _mix(colour, "#ffffff", 0.25),
        # A pale garment needs a slightly deeper background to stand out from the page.
        "background": _mix(colour, "#e6dfd4" if light else "#f4f0e9", 0.9),
    }


def _stroke(path: str, colour: str, width: float = 2, extra: str = "") -> str:
    return (
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
        f'stroke-linecap="round" stroke-linejoin="round"{extra}/>'
    )


def _buttons(x: float, ys: list[float], shades: Shades, radius: float = 4) -> str:
    return "".join(
        f'<circle cx="{x}" cy="{y}" r="{radius}" fill="{shades["highlight"]}" '
        f'stroke="{shades["outline"]}" stroke-width="1.5"/>'
        for y in ys
    )


def _ribs(x1: float, x2: float, y1: float, y2: float, shades: Shades, step: float = 7) -> str:
    """Vertical rib lines for a knitted band between x1..x2 and y1..y2."""
    lines = []
    x = x1 + step
    while x < x2 - step / 2:
        lines.append(f"M{x:.1f},{y1} L{x:.1f},{y2}")
        x += step
    return _stroke(" ".join(lines), shades["detail"], 1.2, ' opacity="0.55"')


# --- tops ------------------------------------------------------------------------------------

_TEE = (
    "M168,100 Q200,128 232,100 L284,114 Q300,120 310,136 L334,192 L298,212 L274,176 "
    "L276,398 Q200,408 124,398 L126,176 L102,212 L66,192 L90,136 Q100,120 116,114 Z"
)


def _tshirt(shades: Shades) -> Drawing:
    details = (
        _stroke("M164,99 Q200,136 236,99", shades["detail"], 7)
        + _stroke("M74,180 L106,198 M326,180 L294,198", shades["detail"], 1.5, ' opacity="0.6"')
        + _stroke("M126,384 Q200,394 274,384", shades["detail"], 1.5, ' opacity="0.6"')
    )
    return Drawing(_TEE, details)


def _pocket_tshirt(shades: Shades) -> Drawing:
    tee = _tshirt(shades)
    pocket = _stroke("M222,168 L258,168 L258,206 Q240,212 222,206 Z", shades["detail"], 2)
    return tee._replace(details=tee.details + pocket)


_LONG_SLEEVE = (
    "M170,98 L118,114 Q100,120 96,142 L80,360 L116,366 L132,206 "
    "L134,398 Q167,420 200,408 Q233,420 266,398 L268,206 L284,366 L320,360 "
    "L304,142 Q300,120 282,114 L230,98 Z"
)


def _shirt(shades: Shades) -> Drawing:
    details = (
        f'<path d="M170,98 Q200,86 230,98 L226,108 Q200,100 174,108 Z" fill="{shades["detail"]}"/>'
        + _stroke("M200,118 L200,410", shades["detail"], 1.5)
        + _stroke("M208,118 L208,404", shades["detail"], 1, ' opacity="0.5"')
        + _buttons(204, [148, 192, 236, 280, 324, 368], shades, 3.5)
        + f'<path d="M200,120 L170,96 L156,110 L184,146 Z" fill="{shades["fill"]}" '
        f'stroke="{shades["outline"]}" stroke-width="2" stroke-linejoin="round"/>'
        + f'<path d="M200,120 L230,96 L244,110 L216,146 Z" fill="{shades["fill"]}" '
        f'stroke="{shades["outline"]}" stroke-width="2" stroke-linejoin="round"/>'
        + _stroke("M82,334 L117,339 M318,334 L283,339", shades["detail"], 1.5)
        + _stroke("M132,206 L132,230 M268,206 L268,230", shades["detail"], 1, ' opacity="0.5"')
    )
    return Drawing(_LONG_SLEEVE, details)


_KNIT = (
    "M170,100 Q200,116 230,100 L284,114 Q308,122 312,152 L328,366 L292,372 L270,214 "
    "L272,410 L128,410 L130,214 L108,372 L72,366 L88,152 Q92,122 116,114 Z"
)


def _knit_bands(shades: Shades) -> str:
    return (
        _stroke("M128,382 L272,382", shades["detail"], 1.5)
        + _ribs(128, 272, 384, 408, shades)
        + _stroke("M75,340 L110,346 M325,340 L290,346", shades["detail"], 1.5)
        + _ribs(74, 109, 344, 368, shades, 6)
        + _ribs(291, 326, 344, 368, shades, 6)
    )


def _knit(shades: Shades) -> Drawing:
    details = _stroke("M165,99 Q200,134 235,99", shades["detail"], 10) + _knit_bands(shades)
    return Drawing(_KNIT, details)


def _cardigan(shades: Shades) -> Drawing:
    details = (
        _stroke("M167,99 L200,196 L233,99", shades["detail"], 9)
        + _stroke("M200,196 L200,410", shades["detail"], 2)
        + _knit_bands(shades)
        + _buttons(208, [222, 262, 302, 342], shades, 5)
    )
    return Drawing(_KNIT, details)


def _hoodie(shades: Shades) -> Drawing:
    hood = (
        f'<path d="M154,130 Q148,44 200,40 Q252,44 246,130 Z" fill="{shades["fill"]}" '
        f'stroke="{shades["outline"]}" stroke-width="2.5" stroke-linejoin="round"/>'
    )
    details = (
        f'<path d="M170,104 Q168,62 200,60 Q232,62 230,104 Q200,124 170,104 Z" '
        f'fill="{shades["detail"]}"/>'
        + _stroke("M186,116 L182,190 M214,116 L218,190", shades["highlight"], 3)
        + _stroke("M146,298 L254,298 L272,366 L128,366 Z", shades["detail"], 2)
        + _stroke("M160,298 L146,366 M240,298 L254,366", shades["detail"], 1.5, ' opacity="0.6"')
        + _knit_bands(shades)
    )
    return Drawing(_KNIT, details, behind=hood)


# --- bottoms ---------------------------------------------------------------------------------


def _waistband(left: float, right: float, top: float, shades: Shades) -> str:
    belt_loops = " ".join(f"M{x},{top} L{x},{top + 24}" for x in (left + 18, 200 - 34, 200 + 34, right - 18))
    return _stroke(f"M{left + 1},{top + 20} L{right - 1},{top + 20}", shades["detail"], 2) + _stroke(
        belt_loops, shades["detail"], 4
    )


def _trousers(shades: Shades) -> Drawing:
    outline = "M138,70 L262,70 L272,150 L254,446 L212,446 L201,196 L199,196 L188,446 L146,446 L128,150 Z"
    details = (
        _waistband(138, 262, 70, shades)
        + _stroke("M204,90 L204,158 Q204,172 192,176", shades["detail"], 1.5)
        + _stroke("M152,90 L134,150 M248,90 L266,150", shades["detail"], 1.5)
        + _stroke("M166,200 L168,446 M234,200 L232,446", shades["highlight"], 1.5, ' opacity="0.7"')
    )
    return Drawing(outline, details)


def _wide_trousers(shades: Shades) -> Drawing:
    outline = "M136,70 L264,70 L282,160 L296,446 L214,446 L201,204 L199,204 L186,446 L104,446 L118,160 Z"
    details = (
        _waistband(136, 264, 70, shades)
        + _stroke("M204,90 L204,160 Q204,174 192,178", shades["detail"], 1.5)
        + _stroke("M150,90 L128,156 M250,90 L272,156", shades["detail"], 1.5)
        + _stroke("M150,210 L146,446 M250,210 L254,446", shades["highlight"], 1.5, ' opacity="0.7"')
    )
    return Drawing(outline, details)


def _jeans(shades: Shades) -> Drawing:
    stitch = "#d9a441"
    dashed = ' stroke-dasharray="5 4"'
    outline = "M138,70 L262,70 L272,150 L264,446 L214,446 L201,196 L199,196 L186,446 L136,446 L128,150 Z"
    details = (
        _waistband(138, 262, 70, shades)
        + _stroke("M141,87 L259,87", stitch, 1.2, dashed)
        + _stroke("M208,92 L208,154 Q208,168 196,172", stitch, 1.2, dashed)
        + _stroke("M154,92 Q158,124 132,132 M246,92 Q242,124 268,132", stitch, 1.2, dashed)
        + _stroke("M226,96 L244,96 L243,114 L227,114", stitch, 1, dashed)
        + "".join(f'<circle cx="{x}" cy="{y}" r="2.5" fill="#b87333"/>' for x, y in ((154, 94), (246, 94), (208, 156)))
        + f'<path d="M137,420 L186,420 L186,446 L136,446 Z M214,420 L264,420 L264,446 '
        f'L214,446 Z" fill="{shades["highlight"]}" stroke="{shades["outline"]}" stroke-width="1.5"/>'
    )
    return Drawing(outline, details)


def _shorts(shades: Shades) -> Drawing:
    outline = "M136,140 L264,140 L278,206 L290,336 L214,344 L201,238 L199,238 L186,344 L110,336 L122,206 Z"
    gathers = " ".join(f"M{x},{144} L{x + 2},{162}" for x in range(146, 258, 12))
    details = (
        _stroke("M136,166 L264,166", shades["detail"], 2)
        + _stroke(gathers, shades["detail"], 1, ' opacity="0.5"')
        + _stroke("M194,166 Q186,196 176,206 M206,166 Q214,196 224,206", shades["highlight"], 2.5)
        + _stroke("M152,168 L130,214 M248,168 L270,214", shades["detail"], 1.5)
        + _stroke("M112,322 L186,330 M214,330 L288,322", shades["detail"], 1.5, ' opacity="0.6"')
    )
    return Drawing(outline, details)


def _pleated_skirt(shades: Shades) -> Drawing:
    top_left, top_right, hem_left, hem_right = 150, 250, 86, 314
    pleats = 10
    hem_points = []
    lines = []
    for index in range(pleats + 1):
        top_x = top_left + (top_right - top_left) * index / pleats
        hem_x = hem_left + (hem_right - hem_left) * index / pleats
        # Alternate the hem height a little so the pleats read as folds.
        hem_y = 436 + (6 if index % 2 else 0)
        hem_points.append(f"L{hem_x:.1f},{hem_y}")
        if 0 < index < pleats:
            lines.append(f"M{top_x:.1f},104 L{hem_x:.1f},{hem_y}")
    outline = (
        f"M{top_left},78 L{top_right},78 L{top_right + 2},104 "
        + " ".join(reversed(hem_points))
        + f" L{top_left - 2},104 Z"
    )
    details = _stroke("M149,104 L251,104", shades["detail"], 2) + _stroke(
        " ".join(lines), shades["detail"], 1.2, ' opacity="0.7"'
    )
    return Drawing(outline, details)


def _a_line_skirt(shades: Shades) -> Drawing:
    outline = "M148,118 L252,118 L254,144 L298,394 Q200,404 102,394 L146,144 Z"
    wales = " ".join(f"M{x},150 L{x + (x - 200) * 0.28:.1f},394" for x in range(156, 250, 8))
    details = (
        _stroke("M147,144 L253,144", shades["detail"], 2)
        + _stroke(wales, shades["detail"], 1, ' opacity="0.35"')
        + _stroke("M200,144 L200,398", shades["detail"], 1.5)
        + _buttons(206, [172, 210, 248, 286], shades, 4)
        + _stroke("M160,146 L150,196 M240,146 L250,196", shades["detail"], 1.5)
    )
    return Drawing(outline, details)


_DRAWINGS: dict[str, Callable[[Shades], Drawing]] = {
    "tshirt": _tshirt,
    "pocket_tshirt": _pocket_tshirt,
    "shirt": _shirt,
    "knit": _knit,
    "cardigan": _cardigan,
    "hoodie": _hoodie,
    "trousers": _trousers,
    "wide_trousers": _wide_trousers,
    "jeans": _jeans,
    "shorts": _shorts,
    "skirt": _pleated_skirt,
    "a_line_skirt": _a_line_skirt,
}

GARMENTS = frozenset(_DRAWINGS)


def garment_svg(garment: str, colour: str, title: str) -> str:
    """A complete SVG document; `title` must already be XML-escaped."""
    shades = _shades(colour)
    drawing = _DRAWINGS[garment](shades)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img"><title>{title}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{shades["background"]}"/>'
        f'<path d="{drawing.outline}" fill="#000" opacity="0.07" transform="translate(6 8)"/>'
        f"{drawing.behind}"
        f'<path d="{drawing.outline}" fill="{shades["fill"]}" stroke="{shades["outline"]}" '
        f'stroke-width="2.5" stroke-linejoin="round"/>'
        f"{drawing.details}</svg>"
    )
