"""Browser libraries at pinned versions: CDN URLs with SRI hashes, or local copies fetched from npm.

`python -m app.assets fetch` (run by `make assets`) downloads each package with `npm pack` from the npm
registry, checks the file against the same sha384 the CDN tag carries, and writes it to `static/vendor/`.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    path: str  # inside the npm package
    integrity: str  # sha384 of that file, as in an SRI attribute

    @property
    def filename(self) -> str:
        return Path(self.path).name

    @property
    def cdn_url(self) -> str:
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{self.path}"

    @property
    def local_url(self) -> str:
        return f"/static/vendor/{self.filename}"


ASSETS: dict[str, Asset] = {
    "htmx": Asset(
        "htmx.org", "2.0.11", "dist/htmx.min.js",
        "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg",
    ),
    "mermaid": Asset(
        "mermaid", "11.17.2", "dist/mermaid.min.js",
        "sha384-EOXBFmc3gx5mb+vn0vPvvGqACToJD24hhacX5Yx+8NUUQrHIle/Qi5Bg9o3zKwW2",
    ),
    # Only for the accessibility checks of the browser tests; never referenced by pages.
    "axe": Asset(
        "axe-core", "4.14.1", "axe.min.js",
        "sha384-xt1SFg49QaDwsyt0Xfs2XAyBtYPClXl3X2q5OOLeGAUmq9jZTYIMdztpF99WdhiH",
    ),
}


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def script_tag(name: str, mode: str, vendor_dir: Path = VENDOR_DIR) -> Markup:
    """A deferred `<script>` for asset `name`, from `static/vendor/` or the CDN (with SRI). Mode `auto`
    takes the local copy whenever it is there and intact, so a machine without internet works."""
    asset = ASSETS[name]
    if mode == "local" or (mode == "auto" and local_copy_ok(name, vendor_dir)):
        return Markup('<script src="{}" defer></script>').format(asset.local_url)
    return Markup('<script src="{}" integrity="{}" crossorigin="anonymous" defer></script>').format(
        escape(asset.cdn_url), asset.integrity
    )


def missing_local_assets(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Names of assets whose local copy is absent or differs from the pinned hash."""
    return [name for name in ASSETS if not local_copy_ok(name, vendor_dir)]


def local_copy_ok(name: str, vendor_dir: Path = VENDOR_DIR) -> bool:
    """Whether `vendor_dir` holds the pinned file of asset `name`. Asked on every page: the hash is
    computed again only when the file's size or modification time changed."""
    file = vendor_dir / ASSETS[name].filename
    try:
        stat = file.stat()
    except OSError:
        return False
    return _copy_ok(file, stat.st_size, stat.st_mtime_ns, ASSETS[name].integrity)


@functools.lru_cache(maxsize=32)
def _copy_ok(file: Path, size: int, mtime_ns: int, integrity: str) -> bool:
    try:
        return sri(file.read_bytes()) == integrity
    except OSError:
        return False


class FetchError(RuntimeError):
    pass


def fetch(vendor_dir: Path = VENDOR_DIR, names: list[str] | None = None) -> list[str]:
    """Fetch the pinned assets not yet present in `vendor_dir`; returns the names fetched."""
    npm = shutil.which("npm")
    wanted = [n for n in missing_local_assets(vendor_dir) if names is None or n in names]
    if wanted and npm is None:
        raise FetchError("`npm` is needed to fetch browser assets (apt-get install npm, or install Node.js).")
    vendor_dir.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        asset = ASSETS[name]
        with tempfile.TemporaryDirectory() as tmp:
            spec = f"{asset.package}@{asset.version}"
            done = subprocess.run(
                [str(npm), "pack", spec, "--silent", "--pack-destination", tmp],
                capture_output=True, text=True, check=False,
            )
            if done.returncode != 0:
                raise FetchError(f"npm pack {spec} failed:\n{done.stderr.strip()}")
            tarball = next(Path(tmp).glob("*.tgz"))
            data = _read_member(tarball, f"package/{asset.path}")
        if sri(data) != asset.integrity:
            raise FetchError(
                f"{spec}/{asset.path} does not match its pinned hash {asset.integrity} (got {sri(data)})."
            )
        (vendor_dir / asset.filename).write_bytes(data)
    return wanted


def _read_member(tarball: Path, member: str) -> bytes:
    with tarfile.open(tarball) as tar:
        extracted = tar.extractfile(member)
        if extracted is None:
            raise FetchError(f"{tarball.name} has no file {member}")
        return extracted.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.assets", description=__doc__)
    parser.add_argument("action", choices=["fetch", "check"])
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    if args.action == "check":
        missing = missing_local_assets(args.dest)
        for name in missing:
            print(f"missing or different: {ASSETS[name].filename} ({name})")
        return 1 if missing else 0
    try:
        fetched = fetch(args.dest)
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name in ASSETS:
        state = "fetched" if name in fetched else "up to date"
        print(f"{ASSETS[name].package}@{ASSETS[name].version}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
