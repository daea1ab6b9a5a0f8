"""A stand-in shop for browser tests: fixture pages served from their own origin.

Each page embeds the widget from the Irasshai server's origin, as a real shop does.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

PAGES = Path(__file__).parent / "pages"

STUB = "window.irasshai=window.irasshai||function(){(irasshai.q=irasshai.q||[]).push(arguments)};"
# Calls made before widget.js has loaded must be kept by the pre-load queue.
PAGE_JS = """
irasshai('track', 'early_call', {from: 'before load'});
irasshai('set', {plan: 'pro'});
document.getElementById('spa').addEventListener('click', function () {
  history.pushState({}, '', '/spa/next');
});
"""


def shop_app(server_url: str, page: str = "tracking.html", headers: dict[str, str] | None = None) -> Starlette:
    html = (PAGES / page).read_text(encoding="utf-8").replace("{{SERVER}}", server_url)

    async def any_page(request):
        return HTMLResponse(html, headers=headers)

    async def stub(request):
        return Response(STUB, media_type="text/javascript")

    async def page_js(request):
        return Response(PAGE_JS, media_type="text/javascript")

    return Starlette(routes=[Route("/stub.js", stub), Route("/page.js", page_js), Route("/{path:path}", any_page)])
