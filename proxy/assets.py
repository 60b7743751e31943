"""Content-addressed static files: served under a digest in the URL, cached for a year.

The runtime bundle carries the digest its build wrote; the panel's own sources are hashed
when the app is created. A changed file gets a new URL, so a cached old one is never served.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .runtime_bundle import DIGEST_FILE

IMMUTABLE = "public, max-age=31536000, immutable"
PANEL_SOURCE_SUFFIXES = (".py", ".js", ".css")


class RuntimeMissing(RuntimeError):
    """The runtime bundle has not been built."""


class ImmutableFiles(StaticFiles):
    """StaticFiles for digest-named URLs, optionally limited to some file suffixes."""

    def __init__(self, *, directory: Path, suffixes: tuple[str, ...] = ()) -> None:
        super().__init__(directory=directory)
        self._suffixes = suffixes

    async def get_response(self, path: str, scope: Scope) -> Response:
        if self._suffixes and not path.endswith(self._suffixes):
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = IMMUTABLE
        return response


@dataclass(frozen=True)
class AssetDirectory:
    directory: Path
    digest: str


def runtime_assets(directory: Path) -> AssetDirectory:
    """The built runtime bundle and the digest its build recorded."""
    try:
        digest = (directory / DIGEST_FILE).read_text().strip()
    except OSError:
        raise RuntimeMissing(f"no runtime bundle at {directory}: run `make runtime`") from None
    return AssetDirectory(directory, digest)


def panel_sources(directory: Path) -> AssetDirectory:
    """The panel's sources, hashed now so each deploy gets fresh URLs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(PANEL_SOURCE_SUFFIXES)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return AssetDirectory(directory, digest.hexdigest()[:16])
