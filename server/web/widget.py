"""GET /widget.js: the snippet every shop page loads, compressed once and cached well.

The file is read and compressed (brotli and gzip) once at start-up; requests only pick
the encoding and answer 304 to a matching ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import brotli
from starlette.requests import Request
from starlette.responses import Response

WIDGET_PATH = Path(__file__).resolve().parents[2] / "widget_js" / "widget.js"
# Short enough that a fixed widget reaches every visitor within minutes; revalidation is a 304.
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


@dataclass(frozen=True)
class Asset:
    raw: bytes
    gzip: bytes
    brotli: bytes
    etag: str

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Asset":
        return cls(raw=raw, gzip=gzip.compress(raw, 9, mtime=0), brotli=brotli.compress(raw, quality=11),
                   etag='"' + hashlib.sha256(raw).hexdigest()[:20] + '"')


def load_widget(path: Path = WIDGET_PATH) -> Asset:
    return Asset.from_bytes(path.read_bytes())


def widget_endpoint(asset: Asset):
    async def widget(request: Request) -> Response:
        headers = {
            "etag": asset.etag,
            "cache-control": CACHE_CONTROL,
            "vary": "Accept-Encoding",
            # Lets shops that set Cross-Origin-Embedder-Policy still load the script.
            "cross-origin-resource-policy": "cross-origin",
            "x-content-type-options": "nosniff",
        }
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        accepted = request.headers.get("accept-encoding", "")
        body = asset.raw
        if "br" in accepted:
            body, headers["content-encoding"] = asset.brotli, "br"
        elif "gzip" in accepted:
            body, headers["content-encoding"] = asset.gzip, "gzip"
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)

    return widget
