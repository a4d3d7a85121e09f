"""The Alerts page (``/alerts``): firing, acknowledged, silenced, pending and the last day's
history, filtered by site, rule and severity; an operator acknowledges, silences for a time with a
reason, or ends a silence. Each action is recorded for the commander (``web.changes``), which
applies it within seconds; the page then says whether it was applied or refused, and why."""

from __future__ import annotations

import time

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from appliance.alerts.rules import RULES
from web import alerts_view
from web.alerts_view import SEVERITIES, Filters
from web.auth import client
from web.auth.guard import requires, services
from web.farm_view import Unavailable

bp = Blueprint("alerts", __name__)
SILENCE_FOR = {"1 hour": 3600, "4 hours": 4 * 3600, "1 day": 86400, "1 week": 7 * 86400}
MAX_REASON = 200


def _filters() -> Filters:
    args = request.args
    rule, severity = args.get("rule") or None, args.get("severity") or None
    if rule is not None and rule not in RULES:
        abort(400, f"rule must be one of {', '.join(RULES)}, not {rule!r}")
    if severity is not None and severity not in SEVERITIES:
        abort(400, f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    return Filters(site=args.get("site") or None, rule=rule, severity=severity)


def _context() -> dict:
    filters = _filters()
    change = request.args.get("change")
    try:
        found, unavailable = alerts_view.page(services().state_dir, filters), None
    except Unavailable as exc:
        found, unavailable = None, str(exc)
    return {"page": found, "unavailable": unavailable, "filters": filters, "rules": sorted(RULES),
            "severities": SEVERITIES, "silence_for": SILENCE_FOR, "change": change,
            "outcome": services().changes.outcome(change) if change else None,
            "may_act": g.identity.role in ("operator", "admin")}


@bp.get("/alerts")
@requires("viewer")
def index():
    return render_template("pages/alerts.html", **_context())


@bp.get("/alerts/live")
@requires("viewer")
def live():
    return render_template("fragments/alerts.html", **_context())


def _alert_id() -> str:
    alert_id = request.form.get("alert", "")
    if not alert_id or len(alert_id) > 300:
        abort(400, "which alert? (the form names none)")
    return alert_id


def _recorded(kind: str, **fields) -> object:
    change = services().changes.record(g.identity.name, client(), kind, **fields)
    return redirect(url_for("alerts.index", change=change))


@bp.post("/alerts/ack")
@requires("operator")
def acknowledge():
    return _recorded("alert_ack", alert=_alert_id())


@bp.post("/alerts/silence")
@requires("operator")
def silence():
    alert_id = _alert_id()
    duration = SILENCE_FOR.get(request.form.get("for", ""))
    if duration is None:
        abort(400, f"silence for one of {', '.join(SILENCE_FOR)}")
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > MAX_REASON:
        abort(400, f"a silence needs a reason (at most {MAX_REASON} characters): the next shift reads it")
    return _recorded("alert_silence", alert=alert_id, until=time.time() + duration, reason=reason)


@bp.post("/alerts/unsilence")
@requires("operator")
def unsilence():
    return _recorded("alert_unsilence", alert=_alert_id())
