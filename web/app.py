"""The "HK AI Trends" FastAPI app, mounted by Airflow's api-server at /hkai (plugins/hkai_trends.py).

Airflow does not protect a plugin's endpoints, so every route here depends on Airflow's own
`get_user`: the bearer token or the `_token` cookie the Airflow UI sets, checked by the configured
auth manager. Without a valid one the answer is a 401/403 page that only links to Airflow's login.

Pages are rendered on the server (Jinja2, autoescaped), charts are inline PNGs, and every link is
relative, so the app works offline and behind a reverse proxy that moves Airflow to a sub-path.
"""

from __future__ import annotations

import base64
import re
import time
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from digest.i18n import EN, sector_name
from warehouse.db import get_engine
from warehouse.marts import MART_NAMES, MARTS
from web import charts, data

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
# A rendered digest is shown as its own document, sandboxed: no script, no network, images inline.
DIGEST_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
SEARCH_PAGE_SIZE = 20


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sector"] = lambda s: sector_name(str(s), EN)
    env.filters["entity_type"] = type_label
    env.filters["hkt"] = data.hkt
    env.filters["hkt_date"] = lambda moment: data.hkt(moment)[:10]
    env.filters["highlight"] = highlight
    return env


def type_label(entity_type: str | None) -> str:
    """An entity type as a label: government-body → Government body."""
    return str(entity_type or "").replace("-", " ").capitalize()


def highlight(text: str, terms: list[str]) -> Markup:
    """The text, escaped, with every occurrence of a search term inside <mark>."""
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    parts: list[Markup] = []
    last = 0
    for match in pattern.finditer(text):
        parts += [escape(text[last : match.start()]), Markup("<mark>%s</mark>") % match.group()]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def require_login() -> Any:
    """Airflow's own user check (JWT from the Authorization header or the UI's `_token` cookie)."""
    from airflow.api_fastapi.core_api.security import get_user

    return Depends(get_user)


def _depth(request: Request) -> int:
    """How many folders below /hkai/ the page is, for relative links."""
    path = request.scope.get("path", "")
    root_path = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return max(0, path.count("/") - 1)


def _roots(request: Request) -> tuple[str, str]:
    """Relative links to this app's root (/hkai/) and to Airflow's root (/)."""
    depth = _depth(request)
    app_root = "../" * depth or "./"
    return app_root, app_root + "../"


def create_app() -> FastAPI:
    """The app; its routes all require an Airflow login."""
    app = FastAPI(
        title="HK AI Trends",
        description="Trends, entities, search and export of the Hong Kong AI news tracker.",
        dependencies=[require_login()],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    env = _environment()

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        started = getattr(request.state, "hkai_started", time.perf_counter())
        root, airflow_root = _roots(request)
        html = env.get_template(template).render(
            root=root,
            airflow_root=airflow_root,
            request_ms=lambda: f"{1000 * (time.perf_counter() - started):.0f}",
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        request.state.hkai_started = time.perf_counter()
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (401, 403):
            # No page content: only where to log in. The login page is Airflow's own.
            response = page(
                request,
                "login_required.html",
                status_code=exc.status_code,
                detail=str(exc.detail),
            )
            if exc.status_code == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return page(
            request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=str(exc.detail)
        )

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, week: str | None = None) -> HTMLResponse:
        engine = get_engine()
        try:
            chosen = data.pick_week(engine, week)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        view = data.overview(engine, chosen)
        return page(
            request,
            "overview.html",
            view=view,
            sector_chart=charts.sector_share_chart(view.sector_share, view.week, view.previous),
            next_week=date.fromordinal(view.week.toordinal() + 7),
            marts=MART_NAMES,
        )

    @app.get("/entities/{kb_id}", response_class=HTMLResponse)
    def entity(request: Request, kb_id: str, page_number: int = Query(1, alias="page", ge=1)) -> HTMLResponse:
        view = data.entity_page(get_engine(), kb_id, page_number)
        if view is None:
            raise HTTPException(404, f"No entity {kb_id!r} in the knowledge base.")
        return page(
            request,
            "entity.html",
            view=view,
            timeline_chart=charts.timeline_chart(view.timeline),
            parent=data.names(view.entity.parent) if view.entity.parent else None,
        )

    @app.get("/search", response_class=HTMLResponse)
    def search(
        request: Request,
        q: str = "",
        week: str = "",
        source: str = "",
        language: str = "",
        sector: str = "",
        entity: str = "",
        page_number: int = Query(1, alias="page", ge=1),
    ) -> HTMLResponse:
        from warehouse.search import query_terms, search_articles, search_facets

        engine = get_engine()
        filters = {"week": week, "source": source, "language": language, "sector": sector, "entity": entity}
        try:
            week_day = date.fromisoformat(week) if week else None
            result = search_articles(
                engine,
                q,
                week=week_day,
                source=source or None,
                language=language or None,
                sector=sector or None,
                entity=entity or None,
                limit=SEARCH_PAGE_SIZE,
                offset=(page_number - 1) * SEARCH_PAGE_SIZE,
            )
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        pages = max(1, -(-result.total // SEARCH_PAGE_SIZE))

        def link(number: int) -> str:
            params = {"q": q, **filters, "page": str(number)}
            return "search?" + urlencode({k: v for k, v in params.items() if v})

        entity_ids = sorted(
            {e for hit in result.hits for e in hit.entities} | ({entity} if entity else set())
        )
        return page(
            request,
            "search.html",
            q=q,
            terms=query_terms(q),
            filters=filters,
            facets=search_facets(engine),
            result=result,
            page_number=page_number,
            pages=pages,
            prev_link=link(page_number - 1) if page_number > 1 else None,
            next_link=link(page_number + 1) if page_number < pages else None,
            entity_labels={e: data.names(e) for e in entity_ids},
            in_kb=data.knowledge_base(),
            hkt_of=data.hkt,
        )

    @app.get("/export/{filename}")
    def export(filename: str) -> Response:
        mart, _, fmt = filename.rpartition(".")
        if mart not in MARTS or fmt not in EXPORT_TYPES:
            raise HTTPException(404, f"No export {filename!r}: use <mart>.csv or <mart>.parquet.")
        from warehouse.export import export_mart

        body = export_mart(get_engine(), mart, "csv" if fmt == "csv" else "parquet")
        return Response(
            body,
            media_type=EXPORT_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{mart}.{fmt}"'},
        )

    @app.get("/digests/", response_class=HTMLResponse)
    def digests(request: Request, page_number: int = Query(1, alias="page", ge=1)) -> HTMLResponse:
        entries, pages = data.digest_list(get_engine(), page_number)
        return page(
            request, "digests.html", entries=entries, page_number=min(page_number, pages), pages=pages
        )

    @app.get("/digests/{ident}", response_class=HTMLResponse)
    def digest(request: Request, ident: str) -> HTMLResponse:
        found = data.digest_eml(get_engine(), ident)
        if found is None:
            raise HTTPException(404, f"No digest {ident!r}.")
        entry, eml = found
        message = _parse(eml)
        return page(request, "digest.html", entry=entry, subject=str(message["Subject"] or ""))

    @app.get("/digests/{ident}/message.html")
    def digest_html(ident: str) -> Response:
        found = data.digest_eml(get_engine(), ident)
        if found is None:
            raise HTTPException(404, f"No digest {ident!r}.")
        html = html_with_data_images(_parse(found[1]))
        return Response(
            html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": DIGEST_CSP}
        )

    @app.get("/docs", response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        from warehouse.dictionary import load_dictionary

        return page(request, "docs.html", tables=load_dictionary(), marts=MART_NAMES)

    return app


def _parse(eml: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(eml)
    assert isinstance(message, EmailMessage)
    return message


def html_with_data_images(message: EmailMessage) -> str:
    """The digest's HTML part with its inline (cid:) images as data: URIs, since a browser cannot
    resolve cid: outside a mail client."""
    part = message.get_body(preferencelist=("html",))
    if part is None:
        return "<p>This digest has no HTML part.</p>"
    html = str(part.get_content())
    for attachment in message.walk():
        cid = attachment.get("Content-ID")
        payload = attachment.get_payload(decode=True)
        if cid and attachment.get_content_maintype() == "image" and isinstance(payload, bytes):
            encoded = base64.b64encode(payload).decode("ascii")
            html = html.replace(
                f"cid:{cid.strip('<>')}", f"data:{attachment.get_content_type()};base64,{encoded}"
            )
    return html


app = create_app()
