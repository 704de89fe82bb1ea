"""Exclusion criteria decided from the medical history: EX1–EX11 and EX16–EX21."""

from collections.abc import Callable

from enrollment.rules.criteria_common import (
    Context,
    CriterionResult,
    Finding,
    Window,
    days_window,
    failed,
    flag,
    months_window,
    passed,
    positive_pregnancy_test,
    recent_event,
    review,
    verdict,
)

_INFUSION, _SCREENING = "planned_infusion_at", "screening_date"

# Yes/no history items: criterion code → (field, label); a 'yes' excludes, an unanswered item is missing.
YES_NO_ITEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "EX1": (("platelet_transfusion_refractoriness", "History of platelet transfusion refractoriness"),),
    "EX2": (("severe_transfusion_allergy", "History of severe allergic reaction to transfusion"),),
    "EX3": (
        (
            "other_cause_of_thrombocytopenia_or_bleeding_disorder",
            "Bleeding disorder or thrombocytopenia from a cause other than CTIT",
        ),
    ),
    "EX4": (("splenomegaly_or_hypersplenism", "Splenomegaly or hypersplenism"),),
    "EX6": (("severe_bleeding", "Existing severe bleeding"),),
    "EX7": (("hemophilia_or_coagulation_disorder", "Hemophilia or coagulation disorder"),),
    "EX16": (("active_infection_requiring_iv_antibiotics", "Uncontrolled infection requiring IV antibiotics"),),
    "EX17": (("allergy_to_product", "Known allergy to the investigational product or its excipients"),),
    "EX18": (
        (
            "similar_investigational_product_within_4_weeks",
            "Investigational product of similar mechanism within {similar_product_lookback_days} days",
        ),
        ("in_other_interventional_trial", "In another interventional clinical trial"),
    ),
    "EX19": (("hsct_with_acute_gvhd_requiring_treatment", "HSCT with acute GVHD requiring treatment"),),
}


def yes_no_criterion(code: str) -> Callable[[Context], CriterionResult]:
    """The rule of a criterion made only of yes/no history items."""

    def evaluate(ctx: Context) -> CriterionResult:
        items = YES_NO_ITEMS[code]
        return verdict(*(_yes_no(ctx, field, label.format(**vars(ctx.limits))) for field, label in items))

    evaluate.__doc__ = f"{code}: yes/no history items {', '.join(f for f, _ in YES_NO_ITEMS[code])}."
    return evaluate


def ex5_thrombopoietic_drugs(ctx: Context) -> CriterionResult:
    """EX5: thrombopoietic drug use within the configured days before the site-local infusion day."""
    window = days_window(ctx.infusion_day(), ctx.limits.thrombopoietic_lookback_days, "planned infusion day")
    return verdict(_event(ctx, "last_thrombopoietic_drug_on", "thrombopoietic drug use", window, _INFUSION))


def ex8_thromboembolism(ctx: Context) -> CriterionResult:
    """EX8: thromboembolism or catheter-related thrombosis within their months before screening."""
    screening, limits = ctx.doc.screening_date, ctx.limits
    clot = months_window(screening, limits.thromboembolism_lookback_months, "screening date")
    catheter = months_window(screening, limits.catheter_thrombosis_lookback_months, "screening date")
    return verdict(
        _event(ctx, "last_thromboembolism_on", "thromboembolism", clot, _SCREENING),
        _event(ctx, "last_catheter_thrombosis_on", "catheter-related thrombosis", catheter, _SCREENING),
    )


def ex9_cardiac(ctx: Context) -> CriterionResult:
    """EX9: cardiac disease within the configured months before screening, or severe cardiovascular history."""
    window = months_window(ctx.doc.screening_date, ctx.limits.cardiac_lookback_months, "screening date")
    return verdict(
        _event(ctx, "last_cardiac_disease_on", "cardiac disease", window, _SCREENING),
        _yes_no(ctx, "severe_cardiovascular_history", "Severe cardiovascular history"),
    )


def ex10_surgery(ctx: Context) -> CriterionResult:
    """EX10: major surgery or severe trauma within the configured days before the infusion day, or planned."""
    window = days_window(ctx.infusion_day(), ctx.limits.surgery_lookback_days, "planned infusion day")
    return verdict(
        _event(ctx, "last_major_surgery_on", "major surgery or severe trauma", window, _INFUSION),
        _yes_no(ctx, "major_surgery_planned", "Major surgery planned during the trial"),
    )


def ex11_anticoagulants(ctx: Context) -> CriterionResult:
    """EX11: anticoagulant or antiplatelet use (catheter-lock heparin not recorded) within days before screening."""
    window = days_window(ctx.doc.screening_date, ctx.limits.anticoagulant_lookback_days, "screening date")
    return verdict(_event(ctx, "last_anticoagulant_on", "anticoagulant or antiplatelet use", window, _SCREENING))


def _event(ctx: Context, field: str, label: str, window: Window | None, reference_path: str) -> Finding:
    event = getattr(ctx.doc.history, field)
    return recent_event(f"history.{field}", label, event, window, reference_path)


def _yes_no(ctx: Context, field: str, label: str) -> Finding:
    value = getattr(ctx.doc.history, field)
    return flag(f"history.{field}", value, wanted=False, yes=f"{label}: yes.", no=f"{label}: no.")


def ex20_pregnant_or_lactating(ctx: Context) -> CriterionResult:
    """EX20: pregnant or lactating (a positive pregnancy test counts); not applicable to a man."""
    doc = ctx.doc
    if doc.sex == "M" and doc.history.pregnant_or_lactating is None:
        return verdict(passed("Not applicable to a male subject."))
    findings = [_yes_no(ctx, "pregnant_or_lactating", "Pregnant or lactating")]
    if doc.pregnancy_test is not None and doc.pregnancy_test.result == "positive":
        findings.append(failed(positive_pregnancy_test(doc.pregnancy_test)))
    return verdict(*findings)


def ex21_investigator_judgment(ctx: Context) -> CriterionResult:
    """EX21: the investigator's judgment; pending (review) until recorded in investigator_excludes."""
    excludes = ctx.doc.history.investigator_excludes
    if excludes is None:
        return verdict(review("Needs the investigator's judgment: history.investigator_excludes is not recorded."))
    if excludes:
        return verdict(failed("The investigator judges that another condition precludes participation."))
    return verdict(passed("The investigator judges that no other condition precludes participation."))
