"""Demo login and logout. There is no password: the login only gives Irasshai a known customer
(a returning one, with purchase history) to greet by name."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from demo_shop import tracking
from demo_shop.rendering import read_form, render

DEFAULT_NAME = "山田 花子"
DEMO_CUSTOMER_ID = "C-1001"
DEMO_ORDER_COUNT = 3
MAX_NAME_LENGTH = 40


async def login_page(request: Request) -> Response:
    return render(request, "login.html", {"default_name": DEFAULT_NAME})


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    name = " ".join(form.get("name", "").split())[:MAX_NAME_LENGTH] or DEFAULT_NAME
    customer = {"name": name, "orders": DEMO_ORDER_COUNT}
    request.session["customer"] = customer
    secret = request.app.state.identity_secret  # on the shop's server only: pages get the hash
    tracking.queue(request.session, tracking.logged_in(DEMO_CUSTOMER_ID, customer, secret))
    return RedirectResponse("/", status_code=303)


async def logout_submit(request: Request) -> Response:
    request.session.pop("customer", None)
    tracking.queue(request.session, tracking.logged_out())
    return RedirectResponse("/", status_code=303)
