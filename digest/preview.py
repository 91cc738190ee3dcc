"""Browser preview of a rendered digest: headless Chromium loads the HTML with its inline images
resolved, checks the sections and images, and saves a PNG screenshot for people to look at.

Mail clients resolve `cid:` references from the message; a browser cannot, so the preview swaps
each for a `data:` URI taken from the same .eml. Chromium is Debian's package (/usr/bin/chromium).
"""

from __future__ import annotations

import base64
import logging
import shutil
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

from config.settings import get_settings

log = logging.getLogger(__name__)

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXPECTED_SECTIONS = ("top-stories", "sectors", "entities", "new-names", "spikes", "source-health")


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def html_with_inline_images(eml_path: Path) -> str:
    """The message's HTML part with every cid: reference replaced by a data: URI."""
    message = BytesParser(policy=policy.default).parsebytes(eml_path.read_bytes())
    html_part = message.get_body(preferencelist=("html",))
    if html_part is None:
        raise ValueError(f"{eml_path} has no HTML part")
    html = html_part.get_content()
    for part in message.walk():
        cid = part.get("Content-ID")
        payload = part.get_payload(decode=True)
        if cid and part.get_content_maintype() == "image" and isinstance(payload, bytes):
            data = base64.b64encode(payload).decode()
            html = html.replace(f"cid:{cid.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    return html


@dataclass
class PreviewReport:
    screenshot: Path
    sections: list[str]
    images: int
    broken_images: list[str]


def screenshot(eml_path: Path, png_path: Path | None = None) -> PreviewReport:
    """Render the digest in headless Chromium; raise RuntimeError when no Chromium is installed."""
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("Chromium not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    png_path = png_path or eml_path.with_suffix(".png")
    preview_html = eml_path.with_suffix(".preview.html")
    preview_html.write_text(html_with_inline_images(eml_path), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 720, "height": 1200})
            page.route(
                "**/*",
                lambda route: route.abort() if route.request.url.startswith("http") else route.continue_(),
            )
            page.goto(preview_html.resolve().as_uri(), wait_until="load")
            sections = page.eval_on_selector_all("td[id]", "nodes => nodes.map(n => n.id)")
            images = page.eval_on_selector_all(
                "img",
                "imgs => imgs.map(i => ({src: i.src.slice(0, 40), ok: i.complete && i.naturalWidth > 0}))",
            )
            page.screenshot(path=str(png_path), full_page=True)
        finally:
            browser.close()
    return PreviewReport(png_path, sections, len(images), [i["src"] for i in images if not i["ok"]])


def screenshot_if_available(eml_path: Path) -> str | None:
    """The screenshot's path when previews are on and Chromium is installed; a missing browser or a
    failed preview is logged and never blocks the digest."""
    if not get_settings().digest_screenshot or chromium_path() is None:
        return None
    try:
        report = screenshot(eml_path)
    except Exception as exc:  # a preview problem is logged, the digest still goes out
        log.warning("digest preview failed for %s: %s", eml_path.name, exc)
        return None
    if report.broken_images:
        log.warning("digest preview %s has broken images: %s", eml_path.name, report.broken_images)
    return str(report.screenshot)
