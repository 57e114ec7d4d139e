"""The dashboard, its drill-downs, worklists and training cohorts; managers see their own teams,
agents nothing."""

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import audit, clock, dates
from coachapp.dashboard import charts, figures, service
from coachapp.dashboard import cohorts as cohorts_service
from coachapp.dashboard import export as export_service
from coachapp.dashboard import worklists as worklists_service
from coachapp.dashboard.forms import CohortForm, HandledForm
from coachapp.extensions import db
from coachapp.followups.service import current_ladder
from coachapp.htmx import render
from coachapp.models import Role
from coachapp.parsing import parse_id
from coachapp.roles import role_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
viewers = role_required(Role.TRAINER, Role.ADMIN, Role.MANAGER)

#: Drill-downs list at most this many rows; the CSV export has them all.
DRILL_LIMIT = 200


@bp.app_template_filter("share")
def share(value: float | None) -> str:
    return dates.format_percent(value)


@bp.app_template_global()
def not_enough(n: int) -> str:
    return _("not enough data yet (n = %(n)d)", n=n)


def _bar_text(row: service.Row) -> str:
    return share(row.value) if row.enough else not_enough(row.n)


def _chart(rows: list[service.Row]) -> charts.Chart:
    drawn, height = charts.bars(rows, value_text=_bar_text)
    return charts.Chart(rows=rows, bars=drawn, height=height, hidden=len(rows) - len(drawn))


def _context() -> tuple[service.Filters, service.Periods, service.Data]:
    options = service.options_for(current_user)
    filters = service.Filters.from_args(request.args, options)
    periods = service.Periods.ending(clock.today(), filters.period)
    return filters, periods, service.load(current_user, filters, options, periods)


@bp.get("")
@login_required
@viewers
def index() -> Response:
    """Headline figures under the chosen filters, with charts and their data tables."""
    options = service.options_for(current_user)
    filters = service.Filters.from_args(request.args, options)
    periods = service.Periods.ending(clock.today(), filters.period)
    shown = figures.figures(current_user, filters, options, periods, current_ladder())
    return render(
        "dashboard/index.html",
        "dashboard/index.html",
        filters=filters,
        periods=periods,
        options=options,
        period_labels=service.PERIODS,
        tiles=shown.tiles,
        curve=shown.curve,
        curve_plot=charts.curve_plot(shown.curve),
        by_manager=_chart(shown.by_manager),
        by_team=_chart(shown.by_team),
        by_competency=_chart(shown.by_competency),
        by_behaviour=_chart(shown.by_behaviour),
        load=shown.load,
        load_managers=list(options.managers),
        load_columns=charts.columns(
            shown.load.totals, [dates.format_date(w, "day") for w in shown.load.weeks]
        ),
        more=shown.more,
        obstacles_raised=shown.obstacles_raised,
    )


@bp.get("/items")
@login_required
@viewers
def items() -> Response:
    """The items or checks behind one figure, then on to the agent's focus items."""
    figure = request.args.get("figure", "")
    if figure not in service.FIGURES:
        abort(404)
    filters, periods, data = _context()
    rows = service.drill(data, current_ladder(), periods, figure)
    return render(
        "dashboard/items.html",
        "dashboard/items.html",
        figure=figure,
        title=service.FIGURES[figure],
        rows=rows[:DRILL_LIMIT],
        total=len(rows),
        filters=filters,
        periods=periods,
        options=data.options,
        period_labels=service.PERIODS,
        may_open=current_user.role in (Role.TRAINER, Role.MANAGER),
    )


@bp.get("/worklists")
@login_required
@viewers
def worklists() -> Response:
    """Escalated items, follow-ups overdue past their window by manager, and coverage gaps."""
    return _worklists()


@bp.post("/worklists/handled")
@login_required
@role_required(Role.TRAINER)
def mark_handled() -> Response:
    """Mark a worklist entry handled, with a note the agent's managers read."""
    form = HandledForm()
    if not form.validate():
        return _worklists(form=form, status=422)
    worklists_service.mark_handled(
        viewer=current_user,
        worklist=form.worklist.data,
        agent_id=int(form.agent_id.data),
        focus_item_id=int(form.focus_item_id.data) if form.focus_item_id.data else None,
        note=form.note.data or "",
    )
    db.session.commit()
    flash(_("Marked handled. The agent's managers see your note here."))
    return redirect(url_for("dashboard.worklists") + "#" + form.worklist.data, code=303)


def _worklists(form: HandledForm | None = None, status: int = 200) -> Response:
    options = service.options_for(current_user)
    lists = worklists_service.build(
        current_user,
        options,
        today=clock.today(),
        ladder=current_ladder(),
        coverage_days=current_app.config.get("COVERAGE_DAYS", 30),
    )
    return render(
        "dashboard/worklists.html",
        "dashboard/worklists.html",
        status=status,
        lists=lists,
        failed=form,
        may_mark=current_user.role == Role.TRAINER,
        may_open=current_user.role in (Role.TRAINER, Role.MANAGER),
    )


@bp.get("/cohorts")
@login_required
@role_required(Role.TRAINER, Role.ADMIN)
def cohorts() -> Response:
    """The trainings recorded, the form to record one, and a comparison of two."""
    return _cohorts(_cohort_form(formdata=None))


@bp.post("/cohorts")
@login_required
@role_required(Role.TRAINER)
def create_cohort() -> Response:
    """Record a classroom training with its date and participants."""
    form = _cohort_form()
    if not form.validate():
        return _cohorts(form, status=422)
    try:
        cohort = cohorts_service.create(
            name=form.name.data or "",
            trained_on=form.trained_on.data,  # type: ignore[arg-type]
            team_id=int(form.team_id.data) if form.team_id.data else None,
            agent_ids=list(form.agent_ids.data or []),
            by=current_user,
        )
    except cohorts_service.NoParticipants as refused:
        form.agent_ids.errors = [refused.message]
        return _cohorts(form, status=refused.status_code)
    db.session.commit()
    return redirect(url_for("dashboard.cohort", cohort_id=cohort.id), code=303)


@bp.get("/cohorts/<int:cohort_id>")
@login_required
@role_required(Role.TRAINER, Role.ADMIN)
def cohort(cohort_id: int) -> Response:
    """A cohort's survival curve and R28, counted in days since the training."""
    figures = [cohorts_service.figures(cohorts_service.cohort_or_404(cohort_id))]
    return _cohort_page(figures)


@bp.get("/cohorts/compare")
@login_required
@role_required(Role.TRAINER, Role.ADMIN)
def compare_cohorts() -> Response:
    """Two cohorts' curves on one axis of days since their training."""
    ids = [parse_id(request.args.get(name, "")) for name in ("a", "b")]
    chosen = [cohort_id for cohort_id in ids if cohort_id is not None]
    if len(chosen) != len(ids):
        abort(404)
    return _cohort_page([cohorts_service.figures(cohorts_service.cohort_or_404(i)) for i in chosen])


def _cohort_form(**kwargs: object) -> CohortForm:
    form = CohortForm(**kwargs)  # type: ignore[arg-type]
    options = service.options_for(current_user)
    agents = cohorts_service.agents_to_choose()
    form.fill_choices([(t.id, t.name) for t in options.teams], [(a.id, a.name) for a in agents])
    return form


def _cohorts(form: CohortForm, status: int = 200) -> Response:
    return render(
        "dashboard/cohorts.html",
        "dashboard/cohorts.html",
        status=status,
        form=form,
        cohorts=cohorts_service.all_cohorts(),
        may_create=current_user.role == Role.TRAINER,
    )


def _cohort_page(figures: list[cohorts_service.CohortFigures]) -> Response:
    return render(
        "dashboard/cohort.html",
        "dashboard/cohort.html",
        figures=figures,
        plots=[charts.curve_plot(f.curve) for f in figures],
    )


@bp.get("/export/<table>.csv")
@login_required
@role_required(Role.TRAINER, Role.ADMIN, Role.MANAGER)
def export(table: str) -> Response:
    """One dashboard table, or the raw items or checks behind the filters, as CSV."""
    if table not in export_service.TABLES:
        abort(404)
    filters, periods, data = _context()
    lines = list(export_service.rows(table, data, current_ladder(), periods))
    details = " ".join([table, *(f"{k}={v}" for k, v in filters.args().items())])
    audit.record("dashboard.exported", actor=current_user, details=details)
    db.session.commit()
    return export_service.download(table, lines, periods.end)
