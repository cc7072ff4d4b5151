"""A trainee's transcript: completed modules, scores, capstone and career milestones, ready to sign."""

from __future__ import annotations

import logging
import tempfile
import textwrap
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graders.errors import UserError
from graders.programme import cohorts as cohorts_mod
from graders.programme import records
from graders.programme.cohorts import Cohort
from graders.programme.grades import read_gradebook
from graders.programme.plan import load_plan
from graders.programme.records import Trainee
from graders.reports import browser
from graders.reports.render_html import render_template
from graders.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ModuleLine:
    title: str
    kind: str
    completed: bool
    score_text: str


@dataclass
class AssignmentLine:
    title: str
    module: str
    points_text: str
    percent_text: str


@dataclass
class Transcript:
    trainee: Trainee
    cohort: Cohort
    modules: list[ModuleLine] = field(default_factory=list)
    assignments: list[AssignmentLine] = field(default_factory=list)
    capstone_text: str = "No capstone project graded yet."
    milestones: list[tuple[str, date | None]] = field(default_factory=list)

    @property
    def end_date(self) -> date | None:
        return self.trainee.completed_on or self.trainee.dropped_on


def build_transcript(
    settings: Settings, cohort_name: str, trainee_id: str, curriculum_dir: Path | None = None
) -> Transcript:
    """A module is completed when all its assignments are graded (career modules: all deliverables done)."""
    cohort = cohorts_mod.load_cohort(settings, cohort_name)
    with records.connect(settings) as conn:
        trainee = records.get_trainee(conn, trainee_id)
        if trainee.cohort != cohort.name:
            raise UserError(f"trainee {trainee_id!r} is in cohort {trainee.cohort!r}, not {cohort.name!r}")
        outcomes = records.load_outcomes(conn, trainee)
    plan = load_plan(cohort.track, curriculum_dir)
    snap = read_gradebook(cohort)
    t = Transcript(trainee=trainee, cohort=cohort)
    titles: dict[str, str] = {}
    for module in plan.modules.values():
        titles.update(dict(module.deliverables))
        if module.kind == "career":
            done = [d for d, _ in module.deliverables if d in outcomes.milestones]
            complete = bool(module.deliverables) and len(done) == len(module.deliverables)
            t.modules.append(
                ModuleLine(
                    module.title,
                    module.kind,
                    complete,
                    f"{len(done)}/{len(module.deliverables)} deliverables",
                )
            )
            continue
        grades = [snap.grade(trainee.id, name) for name in module.assignments]
        graded = [g for g in grades if g is not None]
        score = sum(g.score for g in graded)
        top = sum(g.max_score for g in graded)
        complete = bool(module.assignments) and len(graded) == len(module.assignments)
        text = f"{100 * score / top:.0f}%" if top else "–"
        t.modules.append(ModuleLine(module.title, module.kind, complete, text))
        if module.kind == "project":
            t.capstone_text = (
                f"{module.title}: {text} ({'graded' if complete else 'not completed'})"
                if graded
                else f"{module.title}: not yet graded."
            )
    planned = {a.name: a for a in plan.assignments}
    names = list(planned) + sorted(a.name for a in snap.assignments if a.name not in planned)
    for name in names:
        g = snap.grade(trainee.id, name)
        p = planned.get(name)
        t.assignments.append(
            AssignmentLine(
                title=p.title if p else name,
                module=p.module if p else "",
                points_text=f"{g.score:g} / {g.max_score:g}" if g else "–",
                percent_text=f"{g.percent:.0f}%" if g else "not graded",
            )
        )
    t.milestones = [(titles.get(m, m), d) for m, d in outcomes.milestones.items()]
    return t


def render_transcript_html(t: Transcript) -> str:
    return render_template(
        "transcript.html.j2",
        title=f"Transcript: {t.trainee.name}",
        subtitle=f"AI/ML bootcamp, cohort {t.cohort.name}. Issued {date.today()}.",
        t=t,
    )


def _pdf_with_matplotlib(t: Transcript, pdf: Path) -> None:
    """A plain-text PDF for machines without Chromium: same content, simpler layout."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    lines = [
        f"Transcript: {t.trainee.name}",
        f"Cohort {t.cohort.name} ({t.cohort.track}), from {t.cohort.start}",
        "",
    ]
    lines.append("Modules")
    lines += [
        f"  {m.title} [{m.kind}]: {m.score_text}, {'completed' if m.completed else 'not completed'}"
        for m in t.modules
    ]
    lines += ["", "Assignments"]
    lines += [f"  {a.title}: {a.points_text} ({a.percent_text})" for a in t.assignments]
    lines += ["", "Capstone", f"  {t.capstone_text}", "", "Career milestones"]
    lines += [f"  {name}: {done or ''}" for name, done in t.milestones] or ["  none recorded"]
    lines += [
        "",
        "Signed off by the programme",
        "",
        "Name: ______________________   Date: __________",
        "",
        "Signature: ______________________",
    ]
    wrapped = [w for line in lines for w in (textwrap.wrap(line, 95, subsequent_indent="    ") or [""])]
    per_page = 60
    with PdfPages(pdf) as pages:
        for start in range(0, len(wrapped), per_page):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(
                0.07,
                0.95,
                "\n".join(wrapped[start : start + per_page]),
                va="top",
                family="DejaVu Sans",
                fontsize=9,
            )
            pages.savefig(fig)
            plt.close(fig)


def write_transcript(t: Transcript, output: Path, fmt: str) -> str:
    """Writes HTML or PDF; returns how the PDF was made ("chromium" or "matplotlib") or "html"."""
    html = render_transcript_html(t)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        output.write_text(html, encoding="utf-8")
        return "html"
    if browser.find_chromium():
        with tempfile.TemporaryDirectory(prefix="bootcamp-transcript-") as tmp:
            page = Path(tmp) / "transcript.html"
            page.write_text(html, encoding="utf-8")
            browser.print_to_pdf(page, output)
        return "chromium"
    log.warning("Chromium not found: writing a plain PDF with matplotlib instead")
    _pdf_with_matplotlib(t, output)
    return "matplotlib"
