"""Airflow plugin "HK AI Trends": the tracker's pages (web/app.py) mounted on the api-server at
/hkai, with an entry in the Airflow UI's navigation that shows them inside the UI.

Only wiring lives here; the app and its login check are in web/.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from web.app import app


class HkaiTrendsPlugin(AirflowPlugin):
    name = "hkai_trends"
    fastapi_apps = [{"app": app, "url_prefix": "/hkai", "name": "HK AI Trends"}]
    external_views = [
        {
            "name": "HK AI Trends",
            "href": "hkai/",
            "url_route": "hkai-trends",
            "destination": "nav",
            "category": "browse",
        }
    ]
