"""The Discovery page (``/discovery``, operator): scan addresses on demand (``web.discovery_runs``)
with a progress bar, review what answered (new, or already in the inventory), and add the chosen
ones to the inventory at a site, rack and tags: an ``add_devices`` change the commander applies."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from web.auth import client
from web.auth.guard import requires, services
from web.discovery_runs import ScanRefused

bp = Blueprint("discovery", __name__)


def _context(**extra) -> dict:
    app = services()
    change = request.args.get("change")
    sites = sorted({app.config.default_site, *(site.name for site in app.config.sites)})
    return {"run": app.discoveries.current, "sites": sites, "change": change,
            "outcome": app.changes.outcome(change) if change else None, **extra}


@bp.get("/discovery")
@requires("operator")
def index():
    return render_template("pages/discovery.html", **_context(error=None, typed=""))


@bp.get("/discovery/progress")
@requires("operator")
def progress():
    return render_template("fragments/discovery.html", **_context())


@bp.post("/discovery/scan")
@requires("operator")
def start():
    typed = request.form.get("addresses", "")
    try:
        services().discoveries.start(typed, g.identity.name)
    except ScanRefused as exc:
        return render_template("pages/discovery.html", **_context(error=str(exc), typed=typed)), 400
    services().audit.record(g.identity.name, "discovery_scan", client(), addresses=typed.strip())
    return redirect(url_for("discovery.index"))


@bp.post("/discovery/add")
@requires("operator")
def add():
    app = services()
    run = app.discoveries.current
    if run is None or run.finished_at is None:
        abort(409, "no finished scan to add from")
    chosen = set(request.form.getlist("ip"))
    found = [{"ip": i.ip, "port": i.port, "driver": i.driver} for i in run.found if i.ip in chosen]
    if not found:
        abort(400, "choose at least one address that the scan found")
    site = request.form.get("site", "")
    sites = _context()["sites"]
    if site not in sites:
        abort(400, f"site must be one of {', '.join(sites)}")
    rack = request.form.get("rack", "").strip() or None
    tags = [t.strip() for t in request.form.get("tags", "").split(",") if t.strip()]
    change = app.changes.record(g.identity.name, client(), "add_devices", devices=found, site=site, rack=rack,
                                tags=tags)
    return redirect(url_for("discovery.index", change=change))
