"""Every response carries the security headers; the CSP names the CDN files only in CDN mode."""

from __future__ import annotations

from app.assets import ASSETS
from app.security_headers import cdn_assets, content_security_policy

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def test_pages_errors_and_static_files_carry_the_headers(client) -> None:
    for path in ("/", "/lessons/01-migration-concepts", "/no-such-page", "/static/js/site.js", "/healthz"):
        response = client.get(path)
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (path, name)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self';" in csp  # local assets: no other origin may run scripts
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_cdn_mode_allows_exactly_the_pinned_files() -> None:
    assert cdn_assets("cdn") == ["htmx", "mermaid"] and cdn_assets("local") == []
    assert cdn_assets("auto") == []  # the test setup fetched local copies: auto serves them
    csp = content_security_policy(cdn_assets("cdn"))
    scripts = csp.split("script-src ", 1)[1].split(";", 1)[0].split()
    assert scripts == ["'self'", ASSETS["htmx"].cdn_url, ASSETS["mermaid"].cdn_url]
    assert "https://cdn.jsdelivr.net " not in csp  # never the whole CDN


def test_no_page_has_an_inline_script_or_handler(client) -> None:
    for path in ("/", "/lessons/01-migration-concepts", "/progress"):
        html = client.get(path).text.lower()
        assert "<script>" not in html and " onclick=" not in html and " onsubmit=" not in html, path
        assert " onfocus=" not in html, path
