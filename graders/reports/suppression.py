"""Small-group suppression: no aggregate about fewer than 5 people is ever shown, in any report or format.

With cohorts of 20-30, a count of 2 women who dropped out identifies them. Every count of people below
MIN_GROUP (zero included: "none of them" discloses something about everyone) is replaced by "<5",
and every share or statistic computed over such a group is replaced as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MIN_GROUP = 5
SUPPRESSED = "<5"


def count(n: int) -> int | None:
    """The count itself when it is safe to show, else None (rendered as "<5")."""
    return n if n >= MIN_GROUP else None


def share(numerator: int | None, denominator: int | None) -> float | None:
    """numerator/denominator in percent, only when both groups are large enough to show."""
    if numerator is None or denominator is None or numerator < MIN_GROUP or denominator < MIN_GROUP:
        return None
    return 100.0 * numerator / denominator


def stat_of(values: Sequence[float], fn) -> float | None:  # noqa: ANN001 - any reducer over floats
    """A statistic over people's values, or None when fewer than MIN_GROUP people contribute."""
    return fn(values) if len(values) >= MIN_GROUP else None


def suppress_with_total(values: Mapping[str, int], total: int | None = None) -> dict[str, int | None]:
    """Suppresses small counts in one column of a table that also shows its total.

    Primary suppression hides each count below MIN_GROUP. If exactly one cell is hidden while the total
    is shown, the hidden value is the total minus the rest, so the smallest other cell is hidden too
    (secondary suppression).
    """
    out: dict[str, int | None] = {key: count(v) for key, v in values.items()}
    hidden = [k for k, v in out.items() if v is None]
    total_shown = total is None or count(total) is not None
    if len(hidden) == 1 and total_shown and len(out) > 1:
        visible = sorted((v, k) for k, v in out.items() if v is not None)
        if visible:
            out[visible[0][1]] = None
    return out


def fmt_count(value: int | None) -> str:
    return SUPPRESSED if value is None else str(value)


def fmt_share(value: float | None) -> str:
    return SUPPRESSED if value is None else f"{value:.0f}%"


def fmt_number(value: float | None, digits: int = 1) -> str:
    return SUPPRESSED if value is None else f"{value:.{digits}f}"
