"""The Miners list (filters, sort and pages on the server; htmx swaps the table and keeps the
filters in the address bar), its CSV export, bulk tagging, and one miner's page."""

from __future__ import annotations

import csv
import io
import time

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from web import farm_view, history, lookup, miner_query, rig_view
from web.auth import client
from web.auth.guard import requires, services
from web.farm_view import STATUSES, TH

bp = Blueprint("miners", __name__)
PER_PAGE = (50, 100, 200)
TABLE_ID = "miners-table"  # the fragment htmx asks for (its HX-Target)
MAX_TAG = 64


def _state_dir():
    return services().state_dir


def _query() -> farm_view.Query:
    try:
        return miner_query.parse(request.args)
    except miner_query.BadQuery as exc:
        abort(400, str(exc))


@bp.get("/miners")
@requires("viewer")
def index():
    query = _query()
    page = farm_view.miners(_state_dir(), query)
    context = {"query": query, "page": page, "args": miner_query.args_of(query), "statuses": STATUSES,
               "pages": max(1, -(-page.total // query.per_page)), "per_page_choices": PER_PAGE}
    # A history restore asks for the whole page even though htmx sends the request.
    if request.headers.get("HX-Target") == TABLE_ID and not request.headers.get("HX-History-Restore-Request"):
        response = Response(render_template("pages/miners_table.html", **context))
    else:
        problems: list[str] = []
        change = request.args.get("change")
        rigs = rig_view.rigs(_state_dir(), query.site, query.q)
        response = Response(render_template(
            "pages/miners.html", choices=farm_view.choices(_state_dir(), problems), rigs=rigs,
            choice_problems=problems, change=change,
            outcome=services().changes.outcome(change) if change else None, **context))
    response.vary.add("HX-Target")  # one address, two answers: a cache must keep them apart
    return response


CSV_COLUMNS = ("key", "ip", "site", "rack", "tags", "status", "make", "model", "firmware", "firmware_version",
               "algorithm", "hashrate_ths", "hashrate_nominal_ths", "power_w", "efficiency_jth", "temp_max_c",
               "uptime_s", "accepted", "rejected", "hw_errors", "mac", "serial", "hostname", "polled_at_utc")


@bp.get("/miners.csv")
@requires("viewer")
def export():
    """Every miner the filters keep (no pages), units in the header so cells are plain numbers."""
    query = _query()
    problems: list[str] = []
    rows = farm_view.select(_state_dir(), query, problems).to_pylist()
    placed = farm_view.places(_state_dir(), [row["device"] for row in rows], problems)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        place = placed.get(row["device"])
        polled = row["polled_at"]
        writer.writerow([
            row["device"], row["ip"], row["site"], place.rack if place else None, ";".join(place.tags) if place else "",
            row["status"], row["make"], row["model"], row["firmware"], row["firmware_version"], row["algorithm"],
            None if row["hashrate_hs"] is None else row["hashrate_hs"] / TH,
            None if row["hashrate_nominal_hs"] is None else row["hashrate_nominal_hs"] / TH,
            row["power_w"], row["efficiency_jth"], row["temp_max_c"], row["uptime_s"], row["accepted"],
            row["rejected"], row["hw_errors"], row["mac"], row["serial"], row["hostname"],
            None if polled is None else polled.strftime("%Y-%m-%dT%H:%M:%SZ")])
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="miners-{stamp}.csv"'})


@bp.post("/miners/tags")
@requires("operator")
def tags():
    """Tags added to or removed from the chosen miners, or every miner the filters keep: recorded
    for the commander (``web.changes``), which applies it within seconds."""
    form = request.form
    tag = form.get("bulk_tag", "").strip()  # not "tag": that is the filter, carried along for "all that match"
    if not tag or len(tag) > MAX_TAG or not tag.isprintable():
        abort(400, f"a tag is 1 to {MAX_TAG} printable characters")
    if form.get("action") not in ("add", "remove"):
        abort(400, "action must be add or remove")
    try:
        query = miner_query.parse(form)
    except miner_query.BadQuery as exc:
        abort(400, str(exc))
    if form.get("all_matching"):
        keys = farm_view.select(_state_dir(), query, [])["device"].to_pylist()
    else:
        keys = list(dict.fromkeys(form.getlist("key")))
    if not keys:
        abort(400, "no miner was chosen")
    add, remove = ([tag], []) if form["action"] == "add" else ([], [tag])
    change = services().changes.record(g.identity.name, client(), "tags", devices=keys, add=add, remove=remove)
    return redirect(url_for("miners.index", **miner_query.args_of(query, page=1), change=change), 303)


@bp.get("/miners/<key>")
@requires("viewer")
def page(key: str):
    found = lookup.miner(_state_dir(), key)
    problems = found["problems"]
    alerts = [a for a in farm_view.firing_alerts(_state_dir(), problems) if a.device == found["ip"]]
    return render_template("pages/miner.html", miner=found, device=farm_view.device(_state_dir(), key, problems),
                           addresses=history.addresses(_state_dir(), key, time.time()), alerts=alerts,
                           problems=problems, ranges=history.RANGES)
