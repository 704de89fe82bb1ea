"""The escalation chart: subjects by dose level over the trial's own dates, outcomes marked, drawn as a PNG."""

import io
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
from matplotlib import dates as mdates  # noqa: E402
from matplotlib import pyplot  # noqa: E402

from dosing.rules.live import DosedSubject, outcome_letter  # noqa: E402

MARKERS = {  # letter: (marker, colour, legend)
    "N": ("o", "#2e7d32", "evaluable, no DLT"),
    "G": ("o", "#f9a825", "related grade ≥2 AE, no DLT"),
    "T": ("D", "#c62828", "DLT"),
    "P": ("o", "#9e9e9e", "DLT window open or candidate pending"),
    "X": ("s", "#424242", "not evaluable (replaced)"),
}
CHART_INCHES, CHART_DPI = (10, 4), 100  # 1000 × 400 px: about the admin's content width at 1280 px
MARGIN_DAYS = 3
LABELLED_AT_MOST = 60  # beyond this many dosed subjects, per-subject letters and numbers overlap: count per level


def chart_date_range(infusion_days: list[date], *, today: date) -> tuple[date, date]:
    """The x axis: a few days before the first infusion to a few days after today (today alone with no infusion)."""
    days = [*infusion_days, today]
    return min(days) - timedelta(days=MARGIN_DAYS), max(days) + timedelta(days=MARGIN_DAYS)


def escalation_chart_png(
    subjects: list[DosedSubject], labels: dict[int, str], *, levels: dict[int, str], today: date
) -> bytes:
    """A PNG of each dosed subject at its level on its infusion day, marked with its outcome letter.

    `levels` names each dose level's row ({1: 'L1 · 1.0 × 10⁸ cells'}); `labels` are the study numbers shown.
    """
    figure, axes = pyplot.subplots(figsize=CHART_INCHES, dpi=CHART_DPI)
    try:
        _plot_subjects(axes, subjects, labels)
        _decorate(axes, levels=levels, date_range=chart_date_range([s.d0 for s in subjects], today=today), today=today)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def _plot_subjects(axes, subjects: list[DosedSubject], labels: dict[int, str]) -> None:
    for letter, (marker, colour, legend) in MARKERS.items():
        points = [subject for subject in subjects if outcome_letter(subject) == letter]
        if points:
            axes.scatter([s.d0 for s in points], [s.level for s in points], marker=marker, s=260, c=colour, zorder=3)
        axes.scatter([], [], marker=marker, s=90, c=colour, label=f"{letter}  {legend}")  # every letter in the legend
    if len(subjects) > LABELLED_AT_MOST:
        _count_per_level(axes, subjects)
        return
    for index, subject in enumerate(subjects):
        letter = outcome_letter(subject)
        axes.annotate(letter, (subject.d0, subject.level), ha="center", va="center", color="white", weight="bold")
        # study numbers alternate above and below so neighbours stay legible
        label, offset = labels.get(subject.subject_id, ""), (0, 12 if index % 2 == 0 else -18)
        axes.annotate(
            label, (subject.d0, subject.level), xytext=offset, textcoords="offset points", ha="center", fontsize=7
        )


def _count_per_level(axes, subjects: list[DosedSubject]) -> None:
    """One line per level at the right edge: how many were dosed there, by outcome letter."""
    by_level: dict[int, dict[str, int]] = {}
    for subject in subjects:
        letters = by_level.setdefault(subject.level, dict.fromkeys(MARKERS, 0))
        letters[outcome_letter(subject)] += 1
    for level, letters in sorted(by_level.items()):
        counts = " ".join(f"{letter} {count:,}" for letter, count in letters.items() if count)
        axes.annotate(
            f"{sum(letters.values()):,} dosed: {counts}", (1.0, level), xycoords=("axes fraction", "data"),
            xytext=(-4, 10), textcoords="offset points", ha="right", fontsize=8,
        )  # fmt: skip


def _decorate(axes, *, levels: dict[int, str], date_range: tuple[date, date], today: date) -> None:
    axes.axvline(today, color="#1565c0", linestyle=":", linewidth=1, label="today")
    axes.set_xlim(*date_range)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # ISO days, as every page writes them
    axes.set_yticks(sorted(levels), [levels[level] for level in sorted(levels)])
    axes.set_ylim(0.5, max(levels, default=1) + 0.5)
    axes.grid(axis="y", color="#eeeeee")
    axes.set_xlabel("Infusion day (site-local)")
    axes.set_title("XJ-MK-002 dose escalation")
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, title="Outcome", frameon=False)
