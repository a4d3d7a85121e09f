"""The pages: HTML rendered on the server, one blueprint per page family; htmx refreshes the parts
that change (``hx-get`` of a fragment route), uPlot draws the charts from the JSON API."""

from __future__ import annotations

from flask import Flask, current_app, g

from appliance import ha
from web import display
from web.pages import alerts, commander, dashboard, discovery, farm_map, miners, rigs

BLUEPRINTS = (dashboard.bp, farm_map.bp, miners.bp, rigs.bp, alerts.bp, discovery.bp, commander.bp)
# The menu, in order: (label, endpoint).
NAV = (("Dashboard", "dashboard.index"), ("Map", "farm_map.index"), ("Miners", "miners.index"),
       ("Alerts", "alerts.index"), ("Discovery", "discovery.index"), ("Commander", "commander.index"))


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.context_processor(_layout)
    display.register(app)


def _layout() -> dict:
    """What every page's frame shows: the menu, who is signed in, this commander's HA role, and
    where the MASTER answers."""
    config = current_app.extensions["minerwatch"].config
    return {"nav": NAV, "identity": g.get("identity"), "ha_role": ha.role(config.alerts.ha_role_file),
            "ha_url": config.web.vip_url}
