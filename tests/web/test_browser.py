"""HK AI Trends in headless Chromium, logged in the way the Airflow UI is (its `_token` cookie):
the overview, an entity page and a search result page render with no broken image and no
broken relative link, and inside the Airflow UI through the plugin's nav entry. Screenshots
go to out/ui/ for people to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urljoin, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from digest.preview import CHROMIUM_ARGS, chromium_path
from tests.paths import REPO
from tests.web.conftest import Ui
from warehouse.db import get_engine
from warehouse.marts import mart_rows

SHOTS = REPO / "out" / "ui"
PAGES = {
    "overview": "/hkai/?week={busiest}",
    "entity": "/hkai/entities/digital-policy-office",
    "search": "/hkai/search?q=%E6%95%B8%E5%AD%97",  # 數字 ("digital"), a two-character Chinese term
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def logged_in(browser: Browser, ui: Ui) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "_token", "value": ui.token, "url": ui.base}])
    # Offline: anything not served by the test's api-server is refused.
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(ui.base) or route.request.url.startswith("data:")
            else route.abort()
        ),
    )
    return context


def busiest_week() -> str:
    """The week with the most relevant articles, so the overview's screenshot has every section."""
    volume = mart_rows(get_engine(), "mart_weekly_source_volume")
    totals: dict[str, int] = {}
    for row in volume:
        totals[str(row["week_start"])] = totals.get(str(row["week_start"]), 0) + int(row["articles"])
    return max(sorted(totals), key=lambda week: totals[week])


def relative_links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if not urlparse(h).scheme and not h.startswith("#")]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_renders_with_no_broken_image_or_link(browser: Browser, ui: Ui, name: str) -> None:
    context = logged_in(browser, ui)
    try:
        page = context.new_page()
        response = page.goto(ui.base + PAGES[name].format(busiest=busiest_week()), wait_until="load")
        assert response is not None and response.status == 200
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"
        )
        assert [i for i in images if not i["ok"]] == []
        if name != "search":
            assert images, "the page's chart is missing"
        links = relative_links(page)
        assert links, "no relative links found"
        broken = {}
        for href in sorted(set(links)):
            target = urljoin(page.url, href)
            assert target.startswith(ui.base + "/hkai/"), (href, target)  # relative links stay in the app
            status = context.request.get(target).status
            if status != 200:
                broken[href] = status
        assert broken == {}
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert (SHOTS / f"{name}.png").stat().st_size > 20_000
    finally:
        context.close()


def test_the_nav_entry_shows_the_pages_inside_the_airflow_ui(browser: Browser, ui: Ui) -> None:
    context = logged_in(browser, ui)
    try:
        page = context.new_page()
        page.goto(ui.base + "/plugin/hkai-trends", wait_until="load")
        frame = page.frame_locator("iframe").first
        frame.locator("text=Who was in the news").wait_for(timeout=30_000)
        urls = [f.url for f in page.frames]
        assert any(u.startswith(ui.base + "/hkai/") for u in urls), urls
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "airflow-nav.png"))
    finally:
        context.close()
