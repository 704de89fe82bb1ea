"""A dose as a clinician writes it (100000000 viable cells -> '1.0 × 10⁸ cells'), for pages, charts and documents."""

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_cells(viable_cells: int | None) -> str:
    """100000000 -> '1.0 × 10⁸ cells'; '—' when no dose is known."""
    if viable_cells is None:
        return "—"
    mantissa, exponent = f"{viable_cells:.1e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPT)} cells"
