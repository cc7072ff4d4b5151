"""Report charts drawn with matplotlib and returned as base64 PNGs, so an HTML page carries its own images."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # reports are made on servers without a display

import matplotlib.pyplot as plt  # noqa: E402

from graders.reports import suppression  # noqa: E402
from graders.reports.outcomes import OutcomeReport  # noqa: E402
from graders.reports.progress import ProgressReport  # noqa: E402

ACCENT = "#1f5f8b"
MUTED = "#9fb6c9"
GOOD = "#2e7d4f"


@dataclass(frozen=True)
class Chart:
    title: str
    caption: str
    png_base64: str


def _label_bars(ax, bars, labels: list[str]) -> None:
    """Writes each bar's value just above it (suppressed groups show their "<5" text)."""
    for bar, label in zip(bars, labels, strict=True):
        ax.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )


def _encode(fig) -> str:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=144, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _style(ax) -> None:  # noqa: ANN001 - a matplotlib Axes
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#e3e8ee", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9)


def grade_distribution_chart(percents_by_assignment: dict[str, list[float]]) -> Chart | None:
    """One row of dots per assignment: every graded submission's score in percent, for instructors
    (it names no one, but small cohorts make it personal: it belongs on the instructor dashboard only)."""
    graded = {name: values for name, values in percents_by_assignment.items() if values}
    if not graded:
        return None
    names = sorted(graded)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    for row, name in enumerate(names):
        values = graded[name]
        ax.scatter(values, [row] * len(values), s=28, color=ACCENT, alpha=0.7)
        median = sorted(values)[len(values) // 2]
        ax.plot([median, median], [row - 0.3, row + 0.3], color=GOOD, linewidth=2)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("score, % of the assignment's points (green: median)")
    _style(ax)
    ax.grid(axis="x", color="#e3e8ee", linewidth=0.8)
    return Chart(
        "Grades per assignment",
        "Each dot is one graded submission; late penalties are included.",
        _encode(fig),
    )


def progress_charts(report: ProgressReport) -> list[Chart]:
    """Score spread per assignment (only where 5+ are graded) and the submission rate of due work."""
    charts: list[Chart] = []
    shown = [a for a in report.assignments if a.graded_count >= suppression.MIN_GROUP]
    if shown:
        fig, ax = plt.subplots(figsize=(8, 3.6))
        ax.boxplot(
            [a.percents for a in shown],
            patch_artist=True,
            widths=0.55,
            boxprops={"facecolor": MUTED, "edgecolor": ACCENT},
            medianprops={"color": ACCENT, "linewidth": 2},
            whiskerprops={"color": ACCENT},
            capprops={"color": ACCENT},
            flierprops={"markeredgecolor": ACCENT, "markersize": 4},
        )
        ax.set_xticks(range(1, len(shown) + 1), [a.name for a in shown], rotation=30, ha="right")
        ax.set_ylabel("score (%)")
        ax.set_ylim(0, 105)
        _style(ax)
        charts.append(
            Chart(
                "Score distribution per assignment",
                "Box: middle half of the scores; line: median. Assignments graded for fewer than 5 "
                "trainees are left out.",
                _encode(fig),
            )
        )
    due = [a for a in report.assignments if a.due is not None and a.due < report.today]
    if due:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        rates = []
        labels = []
        for a in due:
            rate = suppression.share(a.submitted_count, a.expected_count)
            rates.append(rate if rate is not None else 0.0)
            labels.append(suppression.fmt_share(rate))
        bars = ax.bar([a.name for a in due], rates, color=ACCENT, width=0.6)
        _label_bars(ax, bars, labels)
        ax.set_ylim(0, 110)
        ax.set_ylabel("submitted (%)")
        ax.tick_params(axis="x", rotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        _style(ax)
        charts.append(
            Chart(
                "Submissions of work already due",
                "Share of current trainees who submitted each assignment whose due date has passed.",
                _encode(fig),
            )
        )
    return charts


def outcome_charts(report: OutcomeReport) -> list[Chart]:
    """Employment rate at each follow-up, per cohort; suppressed values are not drawn."""
    rows = report.rows
    stages = (
        ("employed_completion", "At completion"),
        ("employed_3m", "3 months"),
        ("employed_6m", "6 months"),
    )
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / max(len(rows), 1)
    palette = [ACCENT, GOOD, "#c77c1e", "#7b4f9d", "#b23a48", MUTED]
    drawn = False
    for i, row in enumerate(rows):
        values = []
        for key, _ in stages:
            text = row.cells[key]
            values.append(float(text.rstrip("%")) if text.endswith("%") else 0.0)
        positions = [s + (i - (len(rows) - 1) / 2) * width for s in range(len(stages))]
        bars = ax.bar(positions, values, width=width * 0.95, label=row.label, color=palette[i % len(palette)])
        texts = [row.cells[key] for key, _ in stages]
        drawn = drawn or any(text.endswith("%") for text in texts)
        _label_bars(ax, bars, texts)
    ax.set_xticks(range(len(stages)), [label for _, label in stages])
    ax.set_ylim(0, 110)
    ax.set_ylabel("employed (% of completers)")
    if rows:
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    _style(ax)
    caption = 'Employed as a share of those who completed. "<5": group too small to show.'
    if not drawn:
        caption += " No follow-up is large enough to show yet."
    return [Chart("Employment after the programme", caption, _encode(fig))]
