"""The cohort pages: a hub service behind hub sign-in, for trainees and for their instructors.

    /services/cohort/                     a trainee's week: modules, lessons (open in their JupyterLab),
                                          assignments with due dates, their scores, what comes next
    /services/cohort/instructor/<cohort>  the cohort's instructors only (everyone else gets 403): who is
                                          behind (the progress and at-risk report with its charts),
                                          submissions waiting for manual grading, the formgrader link

Who someone is comes from the hub (OAuth); what they may see comes from the programme's records (the
trainee's cohort, the cohort's instructors), so a cohort created while the hub runs has its pages at once.
Run by the hub as a managed service (graders.hub.services.pages_service).
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from graders.hub.exchange import CohortExchange
from graders.hub.services import formgrader_name
from graders.hub.settings import HubSettings
from graders.programme import cohorts as cohorts_mod
from graders.programme import records
from graders.programme.cohorts import Cohort
from graders.programme.grades import read_gradebook
from graders.programme.plan import TrackPlan, load_plan
from graders.settings import Settings

log = logging.getLogger(__name__)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; line-height: 1.45;
       color: #1d2430; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
.sub { color: #5a6474; margin-top: 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .45rem .5rem;
       border-bottom: 1px solid #dde2ea; vertical-align: top; }
.card { border: 1px solid #dde2ea; border-radius: .5rem; padding: .7rem 1rem; margin: .6rem 0; }
.late { color: #a4262c; font-weight: 600; } .done { color: #1b6e3a; } .muted { color: #5a6474; }
a { color: #0b5cad; }
@media (max-width: 40rem) { th.opt, td.opt { display: none; } body { padding: .6rem; } }
"""


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


@dataclass
class Where:
    """A cohort's week for one day: which week of the track it is, and what that week holds."""

    week: int
    weeks: int
    this_week: list[str]  # module ids
    next_week: list[str]


def where_in_track(cohort: Cohort, plan: TrackPlan, today: date) -> Where:
    week = max(1, (today - cohort.start).days // 7 + 1)
    by_week: dict[int, list[str]] = {}
    for module in plan.modules.values():
        for number in module.weeks:
            by_week.setdefault(number, []).append(module.id)
    return Where(week, plan.weeks, by_week.get(week, []), by_week.get(week + 1, []))


def released_lessons(hub: HubSettings, cohort: str, module: str) -> list[str]:
    """The lesson notebooks of `module` released to the cohort (paths under ~/lessons)."""
    folder = CohortExchange(root=hub.exchange_root, cohort=cohort).lessons / module / "lessons"
    return sorted(f"{module}/lessons/{p.name}" for p in folder.glob("*.ipynb")) if folder.is_dir() else []


def trainee_page(settings: Settings, hub: HubSettings, user: str, base_url: str, today: date) -> str | None:
    """The trainee's own page, or None when `user` is no trainee of any cohort."""
    with records.connect(settings) as conn:
        trainee = records.find_trainee(conn, user)
    if trainee is None:
        return None
    cohort = cohorts_mod.load_cohort(settings, trainee.cohort)
    plan = load_plan(cohort.track, hub.curriculum)
    where = where_in_track(cohort, plan, today)
    gradebook = read_gradebook(cohort)
    lab = f"{base_url}user/{html.escape(user)}/lab"
    parts = [
        f"<h1>Hello {html.escape(trainee.name)}</h1>",
        f"<p class='sub'>Cohort {html.escape(cohort.name)} · {html.escape(cohort.track)} track · "
        f"week {where.week} of {where.weeks} · {today:%A %d %B %Y}</p>",
        "<h2>This week</h2>",
    ]
    for module_id in where.this_week or []:
        module = plan.modules[module_id]
        lessons = released_lessons(hub, cohort.name, module_id)
        items = "".join(
            f"<li><a href='{lab}/tree/lessons/{html.escape(path)}'>{html.escape(Path(path).stem)}</a></li>"
            for path in lessons
        )
        lessons_html = f"<ul>{items}</ul>" if items else "<p class='muted'>No lessons released yet.</p>"
        parts.append(f"<div class='card'><strong>{html.escape(module.title)}</strong>{lessons_html}</div>")
    if not where.this_week:
        parts.append("<p class='muted'>Nothing scheduled this week.</p>")
    rows = []
    for assignment in plan.assignments:
        due = assignment.due_on(cohort.start)
        if assignment.week > where.week + 1:
            continue
        grade = gradebook.grade(user, assignment.name)
        if grade is not None:
            state = f"<span class='done'>{grade.score:g} / {grade.max_score:g}</span>"
        elif due < today:
            state = "<span class='late'>not submitted, past due</span>"
        else:
            state = "open"
        rows.append(
            f"<tr><td>{html.escape(assignment.title)}<br><span class='muted'>{html.escape(assignment.name)}"
            f"</span></td><td>{due:%a %d %b}</td><td>{state}</td>"
            f"<td class='opt'>{html.escape(assignment.module)}</td></tr>"
        )
    parts.append("<h2>Assignments</h2>")
    parts.append(
        "<p class='sub'>Fetch and submit them in JupyterLab (Nbgrader → Assignment List); feedback "
        f"appears there too. Work submitted after the due date is marked late. <a href='{lab}'>Open "
        "JupyterLab</a></p>"
    )
    if rows:
        parts.append(
            "<table><tr><th>Assignment</th><th>Due</th><th>Your score</th><th class='opt'>Module</th></tr>"
            + "".join(rows)
            + "</table>"
        )
    else:
        parts.append("<p class='muted'>No assignments due yet.</p>")
    coming = ", ".join(html.escape(plan.modules[m].title) for m in where.next_week) or "—"
    parts.append(f"<h2>Next week</h2><p>{coming}</p>")
    return page(f"Cohort {cohort.name}: week {where.week}", "".join(parts))


def is_instructor(settings: Settings, user: str, cohort: str) -> bool:
    return any(person.id == user for person in cohorts_mod.instructors(settings, cohort))


def waiting_for_manual_grading(cohort: Cohort) -> list[tuple[str, str]]:
    """(assignment, student) for every submission with cells an instructor still has to grade."""
    waiting = []
    with cohort.gradebook() as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                if submission.needs_manual_grade:
                    waiting.append((assignment.name, submission.student.id))
    return waiting


def instructor_page(
    settings: Settings, hub: HubSettings, cohort_name: str, base_url: str, today: date
) -> str:
    """The progress and at-risk report with its charts, plus what waits for manual grading."""
    from graders.reports.charts import grade_distribution_chart
    from graders.reports.progress import build_progress
    from graders.reports.render_html import render_progress

    cohort = cohorts_mod.load_cohort(settings, cohort_name)
    report_html = render_progress(
        build_progress(settings, cohort_name, today=today, curriculum_dir=hub.curriculum)
    )
    formgrader = f"{base_url}services/{formgrader_name(cohort_name)}/formgrader"
    waiting = waiting_for_manual_grading(cohort)
    gradebook = read_gradebook(cohort)
    percents: dict[str, list[float]] = {}
    for (_student, assignment), grade in gradebook.grades.items():
        percents.setdefault(assignment, []).append(grade.percent)
    chart = grade_distribution_chart(percents)
    figure = (
        f"<figure><img alt='{html.escape(chart.title)}' style='max-width:100%' "
        f"src='data:image/png;base64,{chart.png_base64}'><figcaption>{html.escape(chart.caption)}"
        "</figcaption></figure>"
        if chart
        else "<p class='muted'>No graded submissions yet.</p>"
    )
    items = (
        "".join(f"<li>{html.escape(a)}: {html.escape(s)}</li>" for a, s in waiting)
        or "<li class='muted'>none</li>"
    )
    banner = (
        f"<div class='card'><strong>Instructor dashboard · {html.escape(cohort_name)}</strong> · "
        f"<a href='{formgrader}'>open the formgrader</a>"
        f"<p>Waiting for manual grading ({len(waiting)}):</p><ul>{items}</ul>"
        f"<h2>Grades per assignment</h2>{figure}</div>"
    )
    head_end = report_html.find("</head>")
    if head_end != -1:  # our phone-friendly style and viewport, then the report as it is
        extra = f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style>"
        report_html = report_html[:head_end] + extra + report_html[head_end:]
    body_start = report_html.find("<body")
    body_start = report_html.find(">", body_start) + 1 if body_start != -1 else 0
    return report_html[:body_start] + banner + report_html[body_start:]


def outcomes_page(settings: Settings) -> str:
    """The funders' outcome report over every cohort (already suppressed for small groups), for hub admins:
    the programme staff who answer the funders."""
    from graders.reports.outcomes import build_outcomes
    from graders.reports.render_html import render_outcomes

    if not cohorts_mod.list_cohorts(settings):
        return page("Programme outcomes", "<h1>Programme outcomes</h1><p class='muted'>No cohorts yet.</p>")
    return render_outcomes(build_outcomes(settings, None, today=date.today()))


def make_app():  # pragma: no cover - exercised through the hub in tests/test_hub_e2e.py
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from tornado import web

    settings, hub = Settings.load(), HubSettings.load()
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/cohort/")
    base_url = os.environ.get("JUPYTERHUB_BASE_URL", "/")

    class Trainee(HubOAuthenticated, web.RequestHandler):
        @web.authenticated
        def get(self) -> None:
            user = self.get_current_user()["name"]
            found = trainee_page(settings, hub, user, base_url, date.today())
            if found is None:
                cohorts = [
                    c.name
                    for c in cohorts_mod.list_cohorts(settings)
                    if is_instructor(settings, user, c.name)
                ]
                links = "".join(
                    f"<li><a href='{prefix}instructor/{html.escape(c)}'>{html.escape(c)}</a></li>"
                    for c in cohorts
                )
                body = (
                    f"<h1>Cohorts you teach</h1><ul>{links}</ul>"
                    if links
                    else "<h1>You are in no cohort</h1>"
                )
                if self.get_current_user().get("admin"):
                    body += f"<p><a href='{prefix}outcomes'>Programme outcomes (all cohorts)</a></p>"
                found = page("Cohorts", body)
            self.write(found)

    class Instructor(HubOAuthenticated, web.RequestHandler):
        @web.authenticated
        def get(self, cohort: str) -> None:
            user = self.get_current_user()["name"]
            if not settings.is_cohort(cohort) or not is_instructor(settings, user, cohort):
                raise web.HTTPError(403, "only the cohort's instructors may open its dashboard")
            self.write(instructor_page(settings, hub, cohort, base_url, date.today()))

    class Outcomes(HubOAuthenticated, web.RequestHandler):
        @web.authenticated
        def get(self) -> None:
            if not self.get_current_user().get("admin"):
                raise web.HTTPError(403, "only programme staff (hub admins) may open the outcome report")
            self.write(outcomes_page(settings))

    return web.Application(
        [
            (prefix, Trainee),
            (rf"{prefix}outcomes/?", Outcomes),
            (rf"{prefix}instructor/([a-z0-9][a-z0-9-]*)/?", Instructor),
            (rf"{prefix}oauth_callback", HubOAuthCallbackHandler),
        ],
        cookie_secret=os.urandom(32),
    )


def main() -> None:  # pragma: no cover - started by the hub
    from urllib.parse import urlparse

    from tornado.ioloop import IOLoop

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10103"))
    make_app().listen(url.port or 80, url.hostname or "127.0.0.1")
    IOLoop.current().start()


if __name__ == "__main__":
    main()
