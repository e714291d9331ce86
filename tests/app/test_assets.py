from __future__ import annotations

from pathlib import Path

from app.assets import ASSETS, VENDOR_DIR, missing_local_assets, script_tag, sri


def test_vendored_copies_match_the_pinned_hashes() -> None:
    assert missing_local_assets() == [], f"run `make assets` to fetch them into {VENDOR_DIR}"


def test_a_changed_copy_counts_as_missing(tmp_path: Path) -> None:
    for asset in ASSETS.values():
        (tmp_path / asset.filename).write_bytes((VENDOR_DIR / asset.filename).read_bytes())
    assert missing_local_assets(tmp_path) == []
    (tmp_path / ASSETS["htmx"].filename).write_bytes(b"alert('not htmx')")
    assert missing_local_assets(tmp_path) == ["htmx"]


def test_script_tags() -> None:
    htmx = ASSETS["htmx"]
    assert str(script_tag("htmx", "local")) == '<script src="/static/vendor/htmx.min.js" defer></script>'
    cdn = str(script_tag("htmx", "cdn"))
    assert f'src="https://cdn.jsdelivr.net/npm/htmx.org@{htmx.version}/dist/htmx.min.js"' in cdn
    assert f'integrity="{htmx.integrity}"' in cdn and 'crossorigin="anonymous"' in cdn
    assert sri(b"") == "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"


def test_auto_takes_the_local_copy_when_present_and_the_cdn_otherwise(tmp_path: Path) -> None:
    htmx = ASSETS["htmx"]
    assert 'src="https://cdn.jsdelivr.net/' in str(script_tag("htmx", "auto", tmp_path))
    (tmp_path / htmx.filename).write_bytes((VENDOR_DIR / htmx.filename).read_bytes())
    assert (
        str(script_tag("htmx", "auto", tmp_path))
        == '<script src="/static/vendor/htmx.min.js" defer></script>'
    )
    (tmp_path / htmx.filename).write_bytes(b"alert('tampered')")  # a damaged copy is never served
    assert 'integrity="' in str(script_tag("htmx", "auto", tmp_path))
