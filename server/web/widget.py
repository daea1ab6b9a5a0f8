"""GET /widget.js, /ui.js, /chat.js, /widget.css and /chat.css: the widget's files, minified, compressed once, cached well.

The files in widget_js/ (installed as the package server.widget_js, see setup.py) are minified
(comments and whitespace only: rjsmin and rcssmin keep the code exactly as written) and compressed
with brotli and gzip once at start-up; requests only pick the encoding and answer 304 to a
matching ETag. Every shop page loads widget.js, the base; ui.js (a module widget.js imports) and
widget.css are fetched only when an engagement is about to show, chat.js and chat.css only when a
chat opens (a prompt's button, the launcher, or a conversation still open). SCRIPTS and STYLES
list them: a later part is one more name there.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import brotli
import rcssmin
import rjsmin
from starlette.requests import Request
from starlette.responses import Response

from server.web.services import services

# Found through the import system, so an installed wheel serves its own copy, not a source tree's.
WIDGET_DIR = files("server.widget_js")
# Short enough that a fixed widget reaches every visitor within minutes; revalidation is a 304.
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
# widget.js, the base every page loads, then the parts it imports on first use.
SCRIPTS = ("widget.js", "ui.js", "chat.js")
STYLES = ("widget.css", "chat.css")


@dataclass(frozen=True)
class Asset:
    raw: bytes
    gzip: bytes
    brotli: bytes
    etag: str
    media_type: str

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> Asset:
        return cls(
            raw=raw,
            gzip=gzip.compress(raw, 9, mtime=0),
            brotli=brotli.compress(raw, quality=11),
            etag='"' + hashlib.sha256(raw).hexdigest()[:20] + '"',
            media_type=media_type,
        )


def minified_script(folder: Traversable = WIDGET_DIR, name: str = "widget.js") -> bytes:
    return rjsmin.jsmin((folder / name).read_text(encoding="utf-8"), keep_bang_comments=True).encode()


def minified_styles(folder: Traversable = WIDGET_DIR, name: str = "widget.css") -> bytes:
    return rcssmin.cssmin((folder / name).read_text(encoding="utf-8")).encode()


def load_assets(folder: Traversable = WIDGET_DIR) -> dict[str, Asset]:
    return {
        **{name: Asset.from_bytes(minified_script(folder, name), "text/javascript; charset=utf-8") for name in SCRIPTS},
        **{name: Asset.from_bytes(minified_styles(folder, name), "text/css; charset=utf-8") for name in STYLES},
    }


def asset_endpoint(asset: Asset):
    async def serve(request: Request) -> Response:
        headers = {
            "etag": asset.etag,
            "cache-control": CACHE_CONTROL,
            "vary": "Accept-Encoding, Origin",
            # Lets shops that set Cross-Origin-Embedder-Policy still load it.
            "cross-origin-resource-policy": "cross-origin",
            "x-content-type-options": "nosniff",
        }
        # import() fetches a part with CORS, from the shop's page (another origin): its origin is
        # allowed when some site lists it, never '*' (docs/reliability.md, Abuse). A plain
        # <script src> sends no Origin and needs none.
        origin = request.headers.get("origin")
        if origin is not None and any(site.allows(origin) for site in services(request).live.config.sites.values()):
            headers["access-control-allow-origin"] = origin
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        accepted = request.headers.get("accept-encoding", "")
        body = asset.raw
        if "br" in accepted:
            body, headers["content-encoding"] = asset.brotli, "br"
        elif "gzip" in accepted:
            body, headers["content-encoding"] = asset.gzip, "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)

    return serve
