"""The agent console as a static site: which files it has, how each is served (content type,
cache and security headers), the ``config.json`` it starts from, and the release build
``make package`` makes of it. One home for these facts: the local system (``local/console.py``)
serves the source directory with them, the deployment (``infra/console.py``) uploads the build
with them.

The console is ``index.html`` plus the ES modules, styles and message files under ``app/``; no
build chain. A release (``build(out_dir)``) puts ``app/`` under a content-addressed directory
``app-<hash>/`` so those files can be cached for a year, while ``index.html`` and
``config.json`` are revalidated on every load: a deploy reaches every browser at its next load.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SITE_DIR = Path(__file__).resolve().parent
INDEX = "index.html"
CONFIG = "config.json"
ASSETS = "app"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
REVALIDATE = "no-cache"  # may be stored, but asked again (ETag) before every use
IMMUTABLE = "public, max-age=31536000, immutable"
LANGUAGES = ("zh-CN", "en")


def content_type(name: str) -> str | None:
    """The Content-Type of a site file, ``None`` for a file the site does not serve."""
    return CONTENT_TYPES.get(Path(name).suffix.lower())


def cache_control(key: str) -> str:
    """Entry points are revalidated; files of a content-addressed release never change."""
    return IMMUTABLE if key.startswith(f"{ASSETS}-") else REVALIDATE


def source_file(relative: str) -> Path | None:
    """The file of the source site at ``relative`` (``index.html``, ``app/main.js``), or ``None``
    if there is no such served file (unknown type, outside the site, hidden, Python)."""
    parts = relative.split("/")
    if relative != INDEX and (parts[0] != ASSETS or len(parts) < 2):
        return None
    if any(not p or p.startswith(".") or p in ("..", "__pycache__") for p in parts) or "\\" in relative or "\0" in relative:
        return None
    if content_type(relative) is None:
        return None
    path = (SITE_DIR / relative).resolve()
    if SITE_DIR not in path.parents or not path.is_file():
        return None
    return path


def source_files() -> list[str]:
    """Every file of the site, relative to ``console/``."""
    assets = sorted(p.relative_to(SITE_DIR).as_posix() for p in (SITE_DIR / ASSETS).rglob("*") if p.is_file())
    return [INDEX, *(a for a in assets if source_file(a) is not None)]


def messages(language: str) -> dict[str, Any]:
    """The console's messages in ``language`` (also where the ops report takes its words)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return dict(json.loads((SITE_DIR / ASSETS / "locales" / f"{language}.json").read_text(encoding="utf-8")))


def content_security_policy(connect: Iterable[str] = ()) -> str:
    """Only the site's own scripts and styles; requests to the site, the API and sign-in."""
    sources = " ".join(["'self'", *connect])
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src {sources}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def security_headers(connect: Iterable[str] = ()) -> dict[str, str]:
    """Response headers of every console page (the CloudFront response headers policy sets the
    same ones, from :func:`content_security_policy`)."""
    return {
        "Content-Security-Policy": content_security_policy(connect),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


# -- config.json ----------------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalSignIn(_Model):
    """The local system's sign-in form: a dev token minted by the local runtime."""

    mode: Literal["local"] = "local"
    token_url: str = "dev-token"


class CognitoSignIn(_Model):
    """The user pool's hosted UI (authorization code + PKCE, no client secret)."""

    mode: Literal["cognito"] = "cognito"
    domain: Annotated[str, Field(pattern=r"^https://[^/]+$")]
    client_id: Annotated[str, Field(min_length=1)]
    redirect_uri: Annotated[str, Field(pattern=r"^https?://")]
    scopes: tuple[str, ...] = ("openid", "email", "profile")


class LocalReport(_Model):
    """The local runtime renders the ops report for a signed-in supervisor (one-time link)."""

    mode: Literal["local"] = "local"
    link_url: str = "report-link"


class LinkedReport(_Model):
    """Where ops publish the report; ``{from}``, ``{to}``, ``{lang}`` are filled in."""

    mode: Literal["link"] = "link"
    url: Annotated[str, Field(pattern=r"^https://")]


class ScaledClock(_Model):
    """The local system's clock runs ``scale`` times faster from ``epoch`` (as chalicelib.clock)."""

    scale: Annotated[float, Field(gt=0)]
    epoch: float


class Refresh(_Model):
    queue: Annotated[int, Field(ge=1, le=300)] = 5
    detail: Annotated[int, Field(ge=1, le=300)] = 10


class ConsoleConfig(_Model):
    """``config.json``: what the console needs to know about where it runs."""

    api: str = ""  # base URL of the API; "" = the console's own origin (the local system)
    stage: str
    auth: Annotated[LocalSignIn | CognitoSignIn, Field(discriminator="mode")]
    report: Annotated[LocalReport | LinkedReport, Field(discriminator="mode")] | None = None
    refresh_s: Refresh = Refresh()
    clock: ScaledClock | None = None

    def body(self) -> bytes:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1).encode()


# -- release build --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Release:
    directory: Path
    release: str  # content hash of the assets
    files: dict[str, dict[str, str]]  # key -> {"content_type", "cache_control"}

    def manifest(self) -> dict[str, Any]:
        return {"release": self.release, "files": self.files}


def release_id(files: Iterable[str] | None = None) -> str:
    digest = hashlib.sha256()
    for name in sorted(files if files is not None else source_files()):
        digest.update(name.encode() + b"\0" + (SITE_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def build(out_dir: Path) -> Release:
    """The site as deployed: ``index.html`` pointing at ``app-<hash>/``, the assets there, and
    ``manifest.json`` with each file's headers. ``config.json`` is written at deploy time."""
    files = source_files()
    release = release_id(files)
    asset_dir = f"{ASSETS}-{release}"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    metadata: dict[str, dict[str, str]] = {}
    for name in files:
        key = name if name == INDEX else asset_dir + name.removeprefix(ASSETS)
        data = (SITE_DIR / name).read_bytes()
        if name == INDEX:
            text = data.decode("utf-8")
            rewritten = text.replace(f'="{ASSETS}/', f'="{asset_dir}/')
            if f'"{ASSETS}/' in rewritten:
                raise ValueError(f"{INDEX} refers to {ASSETS}/ in a way the build does not rewrite")
            data = rewritten.encode("utf-8")
        target = out_dir / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        metadata[key] = {"content_type": str(content_type(name)), "cache_control": cache_control(key)}
    result = Release(out_dir, release, metadata)
    (out_dir / "manifest.json").write_text(json.dumps(result.manifest(), indent=1), encoding="utf-8")
    return result
