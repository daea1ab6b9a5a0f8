"""Rendering shared by every page: the header's cart and customer, the widget embed, and the
`irasshai(...)` calls for the page (see `tracking.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from demo_shop import tracking
from demo_shop.cart import read_cart
from demo_shop.catalog import CATEGORIES

TEMPLATES_DIRECTORY = Path(__file__).parent / "templates"
# Bodies of the shop's forms are a few short fields; anything larger is not ours.
MAX_FORM_BYTES = 8192


def format_yen(amount: int) -> str:
    return f"¥{amount:,}"


def build_templates() -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIRECTORY),
        autoescape=select_autoescape(),
        # A typo in a template should fail loudly in tests, not render an empty string.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["yen"] = format_yen
    environment.globals["categories"] = CATEGORIES
    return Jinja2Templates(env=environment)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    page_calls: list[tracking.Call] | None = None,
    status_code: int = 200,
    take_queued_calls: bool = True,
) -> Response:
    """Render `template` with the header's data and the page's Irasshai calls.

    Error pages pass `take_queued_calls=False`: a browser's stray request (a missing favicon, say)
    must not swallow the add-to-cart event meant for the page the visitor is about to see.
    """
    session = request.session
    cart = read_cart(session)
    queued = tracking.take_queued(session) if take_queued_calls else []
    state = request.app.state
    return state.templates.TemplateResponse(
        request,
        template,
        {
            "widget_origin": state.widget_origin,
            "site": state.site,
            "cart": cart,
            "customer": session.get("customer"),
            # Queued calls happened before this page, so they go first.
            "irasshai_calls": [*queued, tracking.cart_attributes(cart), *(page_calls or [])],
            "current_path": request.url.path,
            **(context or {}),
        },
        status_code=status_code,
    )


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a url-encoded form (the only kind the shop's forms send).

    Parsed here rather than with `request.form()`, which needs the python-multipart package.
    """
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace")))
