"""Inclusion criteria IN1–IN6 (PROTOCOL.md §3)."""

from datetime import timedelta

from enrollment.rules.criteria_common import (
    Context,
    CriterionResult,
    Finding,
    absent,
    check,
    completed_years,
    failed,
    flag,
    fmt,
    fmt_duration,
    fmt_instant,
    lab_parts,
    missing,
    passed,
    plural,
    positive_pregnancy_test,
    quantity,
    verdict,
)
from enrollment.rules.document import UNANSWERED


def in1_age(ctx: Context) -> CriterionResult:
    """IN1: age in completed years on the consent date within the limits, both inclusive."""
    doc, limits = ctx.doc, ctx.limits
    gaps = absent(doc, "date_of_birth", "consent_signed_on")
    if gaps:
        return verdict(missing(*gaps))
    age = completed_years(doc.date_of_birth, doc.consent_signed_on)
    ok = limits.age_min <= age <= limits.age_max
    where = "within" if ok else "outside"
    text = f"Age {age} on consent date {doc.consent_signed_on} is {where} {limits.age_min}–{limits.age_max}."
    return verdict(check(ok, text))


def in2_malignancy_and_platelets(ctx: Context) -> CriterionResult:
    """IN2: confirmed malignancy, thrombocytopenia from anticancer therapy, platelets in range, no bleeding."""
    doc = ctx.doc
    return verdict(
        flag(
            "malignancy_confirmed",
            doc.malignancy_confirmed,
            wanted=True,
            yes="Malignancy histologically/cytologically confirmed.",
            no="Malignancy not confirmed.",
        ),
        flag(
            "thrombocytopenia_due_to_anticancer_therapy",
            doc.thrombocytopenia_due_to_anticancer_therapy,
            wanted=True,
            yes="Thrombocytopenia due to anticancer therapy.",
            no="Thrombocytopenia not due to anticancer therapy.",
        ),
        _platelets(ctx),
        flag("active_bleeding", doc.active_bleeding, wanted=False, yes="Active bleeding.", no="No active bleeding."),
    )


def _platelets(ctx: Context) -> Finding:
    lab, gap = lab_parts(ctx.doc, "platelets", need_uln=False)
    if gap:
        return gap
    low, high = ctx.limits.platelets_min, ctx.limits.platelets_max
    ok = low <= lab.value <= high
    where = "within" if ok else "outside"
    return check(ok, f"Platelets {quantity(lab.value, lab.unit)} is {where} {fmt(low)}–{fmt(high)}.")


def in3_no_recent_transfusion(ctx: Context) -> CriterionResult:
    """IN3: the last platelet transfusion at least the configured hours (by timestamp) before the infusion."""
    doc, hours = ctx.doc, ctx.limits.transfusion_free_hours
    last, infusion = doc.last_platelet_transfusion_at, doc.planned_infusion_at
    if last is UNANSWERED:
        return verdict(missing("last_platelet_transfusion_at"))
    if last is None:
        return verdict(passed("No platelet transfusion on record."))
    if infusion is None:
        return verdict(missing("planned_infusion_at"))
    subject = f"Last platelet transfusion at {fmt_instant(last, ctx.tz)}"
    where = f"the planned infusion at {fmt_instant(infusion, ctx.tz)}"
    if last > infusion:
        return verdict(failed(f"{subject} is after {where}."))
    gap = infusion - last
    ok = gap >= timedelta(hours=hours)
    return verdict(check(ok, f"{subject} is {fmt_duration(gap)} before {where}; at least {hours} hours are required."))


def in4_ecog(ctx: Context) -> CriterionResult:
    """IN4: ECOG performance status at most the limit."""
    ecog, limit = ctx.doc.ecog, ctx.limits.ecog_max
    if ecog is None:
        return verdict(missing("ecog"))
    ok = ecog <= limit
    return verdict(check(ok, f"ECOG {ecog} is {'within' if ok else 'outside'} 0–{limit}."))


def in5_life_expectancy(ctx: Context) -> CriterionResult:
    """IN5: life expectancy strictly more than the limit in months."""
    months, limit = ctx.doc.life_expectancy_months, ctx.limits.life_expectancy_months_min
    if months is None:
        return verdict(missing("life_expectancy_months"))
    ok = months > limit
    relation = "more than" if ok else "not more than"
    return verdict(check(ok, f"Life expectancy {fmt(months)} months is {relation} {fmt(limit)} months."))


def in6_contraception_and_pregnancy_test(ctx: Context) -> CriterionResult:
    """IN6: contraception for a WOCBP or a man with a WOCBP partner; a WOCBP also needs a recent negative test."""
    doc = ctx.doc
    if doc.sex is None:
        return verdict(missing("sex"))
    if doc.sex == "M":
        if doc.partner_wocbp is None:
            return verdict(missing("partner_wocbp"))
        if not doc.partner_wocbp:
            return verdict(passed("Male subject without a partner of childbearing potential."))
        return verdict(_contraception(ctx))
    if doc.wocbp is None:
        return verdict(missing("wocbp"))
    if not doc.wocbp:
        return verdict(passed("Woman not of childbearing potential: no contraception or pregnancy test required."))
    return verdict(_contraception(ctx), _pregnancy_test(ctx))


def _contraception(ctx: Context) -> Finding:
    return flag(
        "contraception_agreed",
        ctx.doc.contraception_agreed,
        wanted=True,
        yes="Agrees to highly effective contraception.",
        no="Does not agree to highly effective contraception.",
    )


def _pregnancy_test(ctx: Context) -> Finding:
    """Negative, and dated from the configured days before the planned enrollment date up to that date."""
    doc, days = ctx.doc, ctx.limits.pregnancy_test_valid_days
    test = doc.pregnancy_test
    if test is not None and test.result == "positive":
        return failed(positive_pregnancy_test(test))
    gaps = absent(doc, "pregnancy_test.date", "pregnancy_test.result", "planned_enrollment_date")
    if gaps:
        return missing(*gaps)
    enrollment = doc.planned_enrollment_date
    if test.date > enrollment:
        return failed(
            f"Pregnancy test on {test.date} is after the planned enrollment date {enrollment}; "
            f"only a test within {plural(days, 'day')} before enrollment counts."
        )
    before = (enrollment - test.date).days
    text = (
        f"Negative pregnancy test on {test.date}, {plural(before, 'day')} before the planned "
        f"enrollment date {enrollment} (at most {days})."
    )
    return check(before <= days, text)
