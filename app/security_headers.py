"""Security headers on every response: what the page may load, that nobody may frame it, no MIME sniffing,
no Referer (resume links carry a token in their path) to other sites.

Scripts come only from this origin, plus the exact pinned CDN files that pages load from the CDN
(`MIGRATION_LAB_ASSETS=cdn`, or `auto` without a local copy; their SRI hashes are checked as well).
Styles also allow inline ones: mermaid draws each diagram as an SVG carrying its own `<style>` element;
a style cannot run code, and scripts stay strict.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import assets

PAGE_ASSETS = ("htmx", "mermaid")  # what pages load (axe is for tests only)


def cdn_assets(asset_mode: str) -> list[str]:
    """The page assets that `script_tag` takes from the CDN in this mode."""
    if asset_mode == "local":
        return []
    return [name for name in PAGE_ASSETS if asset_mode == "cdn" or not assets.local_copy_ok(name)]


def content_security_policy(cdn_assets: list[str]) -> str:
    scripts = ["'self'", *(assets.ASSETS[name].cdn_url for name in cdn_assets)]
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(scripts),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeaders:
    """Pure ASGI, so streaming responses pass untouched. Headers a handler set itself are kept."""

    def __init__(self, app: ASGIApp, cdn_assets: list[str]) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(cdn_assets).encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.headers if name not in present]
                if https and b"strict-transport-security" not in present:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
