"""The escalation chart: subjects by dose level over time, outcomes marked, drawn as a PNG."""

import io
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
from matplotlib import pyplot  # noqa: E402

from dosing.rules.live import DosedSubject, outcome_letter  # noqa: E402

MARKERS = {  # letter: (marker, colour, legend)
    "N": ("o", "#2e7d32", "evaluable, no DLT"),
    "G": ("o", "#f9a825", "related grade ≥2 AE, no DLT"),
    "T": ("X", "#c62828", "DLT"),
    "P": ("o", "#9e9e9e", "DLT window open"),
    "X": ("s", "#424242", "not evaluable (replaced)"),
}


def escalation_chart_png(subjects: list[DosedSubject], labels: dict[int, str], *, n_levels: int, today: date) -> bytes:
    """A PNG of each dosed subject at its level on its infusion day, marked by outcome letter."""
    figure, axes = pyplot.subplots(figsize=(9, 3.6), dpi=100)
    try:
        _plot_subjects(axes, subjects, labels)
        _decorate(axes, n_levels=n_levels, today=today)
        figure.autofmt_xdate()
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
            days, levels = [s.d0 for s in points], [s.level for s in points]
            axes.scatter(days, levels, marker=marker, s=90, c=colour, label=legend)
    for index, subject in enumerate(subjects):  # labels alternate above and below so neighbours stay legible
        label, offset = labels.get(subject.subject_id, ""), (0, 9 if index % 2 == 0 else -15)
        axes.annotate(
            label, (subject.d0, subject.level), xytext=offset, textcoords="offset points", ha="center", fontsize=7
        )


def _decorate(axes, *, n_levels: int, today: date) -> None:
    axes.axvline(today, color="#1565c0", linestyle=":", linewidth=1, label="today")
    axes.set_yticks(range(1, n_levels + 1), [f"L{level}" for level in range(1, n_levels + 1)])
    axes.set_ylim(0.5, n_levels + 0.5)
    axes.set_xlabel("Infusion day (site-local)")
    axes.set_title("XJ-MK-002 dose escalation")
    axes.legend(loc="upper left", fontsize=7, framealpha=0.9)
