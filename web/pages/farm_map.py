"""The farm map (``/map``): every miner as a cell, site -> room -> rack -> row and column,
coloured by the metric the operator picks (``?metric=``), optionally one site (``?site=``); a
cell's title holds its figures and its link opens the miner. ``/map/import``: places from a CSV,
previewed, then recorded for the commander."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from appliance.config import Site
from appliance.inventory import InventoryError, read_places
from web import map_view, place_import
from web.auth import client
from web.auth.guard import requires, services
from web.farm_view import Unavailable

bp = Blueprint("farm_map", __name__)


def chosen() -> tuple[str, str | None]:
    """The metric and the site the request asks for (400 for a metric there is none of)."""
    metric = request.args.get("metric", "status")
    if metric not in map_view.METRICS:
        abort(400, f"metric must be one of {', '.join(map_view.METRICS)}, not {metric!r}")
    return metric, request.args.get("site") or None


@bp.get("/map")
@requires("viewer")
def index():
    metric, site = chosen()
    config = services().config
    try:
        farm = map_view.farm_map(services().state_dir, config.sites, metric, site)
    except Unavailable as exc:
        farm, unavailable = None, str(exc)
    else:
        unavailable = None
    return render_template("pages/farm_map.html", farm=farm, unavailable=unavailable, metric=metric, site=site,
                           metrics=map_view.METRICS, site_names=[s.name for s in config.sites])


@bp.get("/map/import")
@requires("operator")
def import_form():
    return render_template("pages/place_import.html", moves=None, problems=[], text=None, recorded=None)


@bp.post("/map/import")
@requires("operator")
def import_places():
    """A CSV uploaded is shown as what would change (nothing is recorded); the same text posted
    back with "apply" records a ``place`` change per good line, for the commander to apply."""
    if "apply" in request.form:
        text = request.form.get("csv_text", "")
    else:
        upload = request.files.get("csv")
        if upload is None or not upload.filename:
            abort(400, "choose a CSV file to import")
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            abort(400, "the file is not UTF-8 text: save the sheet as CSV UTF-8")
    config = services().config
    sites = {config.default_site: Site(config.default_site), **{site.name: site for site in config.sites}}
    try:
        places = read_places(services().state_dir)
    except InventoryError as exc:
        raise Unavailable(str(exc)) from exc
    moves, problems = place_import.read(text, places, sites)
    recorded = None
    if "apply" in request.form:
        recorded = [services().changes.record(g.identity.name, client(), "place", device=move.key, site=move.site,
                                              rack=move.rack, location=move.location) for move in moves]
    return render_template("pages/place_import.html", moves=moves, problems=problems, text=text, recorded=recorded)
