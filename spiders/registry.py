"""The source registry: every spider class in `spiders.sources` with its `Source` declaration."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from urllib.parse import urlsplit

from spiders.base import ArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules
from transforms.urls import HOST_ALIASES


@lru_cache(maxsize=1)
def spider_classes() -> dict[str, type[ArticleSpider]]:
    import spiders.sources as package

    found: dict[str, type[ArticleSpider]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ArticleSpider) and hasattr(value, "source"):
                if value.source.name in found and found[value.source.name] is not value:
                    raise ValueError(f"two spiders declare source {value.source.name!r}")
                found[value.source.name] = value
    return dict(sorted(found.items()))


def sources() -> list[Source]:
    return [cls.source for cls in spider_classes().values()]


def get_source(name: str) -> Source:
    try:
        return spider_classes()[name].source
    except KeyError as exc:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(spider_classes())}") from exc


def _site_host(url: str) -> str:
    """The URL's host, lower-cased, a known alias mapped to its main name, without "www."."""
    host = (urlsplit(url).hostname or "").lower()
    return HOST_ALIASES.get(host, host).removeprefix("www.")


def rules_for_url(url: str) -> SiteRules | None:
    """Rules of the source whose homepage or start URL host is the URL's host (for `hkai extract`);
    "www." and host aliases do not matter. None for an unknown host or a source without rules."""
    host = _site_host(url)
    for source in sources():
        hosts = {_site_host(u) for u in (source.homepage, *source.start_urls)}
        if host in hosts and source.rules != SiteRules():
            return source.rules
    return None
