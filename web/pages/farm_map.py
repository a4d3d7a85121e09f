"""The farm map (``/map``): every miner as a cell, site -> room -> rack -> row and column,
coloured by the metric the operator picks (``?metric=``), optionally one site (``?site=``); a
cell's title holds its figures and its link opens the miner."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from web import map_view
from web.auth.guard import requires, services
from web.farm_view import Unavailable

bp = Blueprint("farm_map", __name__)


@bp.get("/map")
@requires("viewer")
def index():
    metric = request.args.get("metric", "status")
    if metric not in map_view.METRICS:
        abort(400, f"metric must be one of {', '.join(map_view.METRICS)}, not {metric!r}")
    site = request.args.get("site") or None
    config = services().config
    try:
        farm = map_view.farm_map(services().state_dir, config.sites, metric, site)
    except Unavailable as exc:
        farm, unavailable = None, str(exc)
    else:
        unavailable = None
    return render_template("pages/farm_map.html", farm=farm, unavailable=unavailable, metric=metric, site=site,
                           metrics=map_view.METRICS, site_names=[s.name for s in config.sites])
