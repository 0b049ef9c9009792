"""What people see: the GS1 Digital Link resolver, scan and product pages, problem reports.

`install_web(app)` adds the routers, the static files and the HTML error pages of these routes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Mounts the resolver, pages, report routes and /static on `app` (the link targets'
    router, `lotlink.web.links.router`, goes in before the lots router: see main.py)."""
    from lotlink.web import pages, recalls, reports, resolver, session

    app.state.error_page = pages.error_page
    app.include_router(reports.api_router)
    app.include_router(reports.router)
    app.include_router(resolver.router)
    app.include_router(session.router)
    app.include_router(recalls.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
