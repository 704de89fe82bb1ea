"""Exclusion criteria decided from labs and serology: EX12–EX15."""

from decimal import Decimal
from fractions import Fraction

from enrollment.rules.criteria_common import (
    Context,
    CriterionResult,
    Finding,
    absent,
    add_months,
    check,
    completed_years,
    failed,
    flag,
    fmt,
    fmt_2dp,
    lab_parts,
    missing,
    passed,
    plural,
    quantity,
    verdict,
)
from enrollment.rules.units import convert

# Cockcroft–Gault constants (the formula itself, not protocol limits).
_CG_AGE_FROM = 140
_CG_DIVISOR = 72
_CG_FEMALE_FACTOR = Fraction("0.85")


def ex12_coagulation(ctx: Context) -> CriterionResult:
    """EX12: APTT or INR above its multiple of the ULN."""
    limits = ctx.limits
    return verdict(
        uln_check(ctx, "aptt", "APTT", limits.aptt_uln_multiple_max),
        uln_check(ctx, "inr", "INR", limits.inr_uln_multiple_max),
    )


def uln_check(ctx: Context, name: str, label: str, multiple: Decimal) -> Finding:
    """Fails when the lab value is above multiple × its own ULN (value and ULN share the unit)."""
    lab, gap = lab_parts(ctx.doc, name, need_uln=True)
    if gap:
        return gap
    limit = multiple * lab.uln
    ok = lab.value <= limit
    where = "within" if ok else "above"
    return check(
        ok, f"{label} {quantity(lab.value, lab.unit)} is {where} {fmt(multiple)}×ULN ({quantity(limit, lab.unit)})."
    )


def ex13_liver_and_kidney(ctx: Context) -> CriterionResult:
    """EX13: liver limits (unless liver cancer or metastasis), creatinine clearance and creatinine vs ULN."""
    creatinine = uln_check(ctx, "creatinine", "Serum creatinine", ctx.limits.creatinine_uln_multiple_max)
    return verdict(*_liver(ctx), creatinine_clearance(ctx), creatinine)


def _liver(ctx: Context) -> list[Finding]:
    """The liver checks; when the waiver is unknown, an exceeded limit is only a note to a missing flag."""
    waived = ctx.doc.liver_cancer_or_metastasis
    if waived:
        return [passed("Liver limits waived: liver cancer or liver metastasis.")]
    multiple = ctx.limits.liver_uln_multiple_max
    checks = [
        uln_check(ctx, "total_bilirubin", "Total bilirubin", multiple),
        uln_check(ctx, "alt", "ALT", multiple),
        uln_check(ctx, "ast", "AST", multiple),
    ]
    if waived is None and any(finding.status != "pass" for finding in checks):
        notes = [missing(*f.fields, note=f.text) for f in checks if f.status != "pass"]
        return [missing("liver_cancer_or_metastasis"), *notes]
    return checks


def creatinine_clearance(ctx: Context) -> Finding:
    """Cockcroft–Gault with actual weight and age on the screening date, in exact arithmetic."""
    doc = ctx.doc
    paths = ("sex", "date_of_birth", "screening_date", "weight_kg", "labs.creatinine.value", "labs.creatinine.unit")
    gaps = absent(doc, *paths)
    if gaps:
        return missing(*gaps)
    age = completed_years(doc.date_of_birth, doc.screening_date)
    creatinine = convert("creatinine", doc.labs.creatinine.value, doc.labs.creatinine.unit, "mg/dL")
    clearance = (_CG_AGE_FROM - age) * Fraction(doc.weight_kg) / (_CG_DIVISOR * creatinine)
    if doc.sex == "F":
        clearance *= _CG_FEMALE_FACTOR
    minimum = ctx.limits.creatinine_clearance_min
    ok = clearance >= Fraction(minimum)
    relation = "at least" if ok else "below"
    return check(
        ok, f"Creatinine clearance {fmt_2dp(clearance)} mL/min (Cockcroft–Gault) is {relation} {fmt(minimum)}."
    )


def ex14_blood_count(ctx: Context) -> CriterionResult:
    """EX14: ANC or hemoglobin (compared in g/L) below its minimum."""
    return verdict(_anc(ctx), _hemoglobin(ctx))


def _anc(ctx: Context) -> Finding:
    lab, gap = lab_parts(ctx.doc, "anc", need_uln=False)
    if gap:
        return gap
    minimum = ctx.limits.anc_min
    ok = lab.value >= minimum
    relation = "at least" if ok else "below"
    return check(ok, f"ANC {quantity(lab.value, lab.unit)} is {relation} {quantity(minimum, lab.unit)}.")


def _hemoglobin(ctx: Context) -> Finding:
    lab, gap = lab_parts(ctx.doc, "hemoglobin", need_uln=False)
    if gap:
        return gap
    grams_per_litre = convert("hemoglobin", lab.value, lab.unit, "g/L")
    minimum = ctx.limits.hemoglobin_min
    ok = grams_per_litre >= Fraction(minimum)
    shown = quantity(lab.value, lab.unit)
    if lab.unit != "g/L":
        shown += f" ({quantity(grams_per_litre, 'g/L')})"
    return check(ok, f"Hemoglobin {shown} is {'at least' if ok else 'below'} {quantity(minimum, 'g/L')}.")


def ex15_serology(ctx: Context) -> CriterionResult:
    """EX15: HIV, syphilis, HCV (with RNA), HBsAg, hepatitis B history, anti-HBc with recent HBV DNA."""
    serology = ctx.doc.serology
    return verdict(
        _negative(serology.hiv_ab, "serology.hiv_ab", "Anti-HIV antibody"),
        _negative(serology.tp_ab, "serology.tp_ab", "Anti-treponema pallidum antibody"),
        _hcv(ctx),
        _negative(serology.hbsag, "serology.hbsag", "HBsAg"),
        flag(
            "serology.hbv_history",
            serology.hbv_history,
            wanted=False,
            yes="History of hepatitis B infection: yes.",
            no="History of hepatitis B infection: no.",
        ),
        _hbv_dna(ctx),
    )


def _negative(result: str | None, path: str, label: str) -> Finding:
    if result is None:
        return missing(path)
    return check(result == "negative", f"{label} {result}.")


def _hcv(ctx: Context) -> Finding:
    serology = ctx.doc.serology
    if serology.hcv_ab != "positive":
        return _negative(serology.hcv_ab, "serology.hcv_ab", "Anti-HCV antibody")
    if serology.hcv_rna_above_uln is None:
        return missing("serology.hcv_rna_above_uln")
    if serology.hcv_rna_above_uln:
        return failed("Anti-HCV antibody positive with HCV RNA above ULN.")
    return passed("Anti-HCV antibody positive with HCV RNA not above ULN.")


def _hbv_dna(ctx: Context) -> Finding:
    """Anti-HBc positive needs an HBV DNA result from the look-back months before screening (or later)."""
    doc, limits = ctx.doc, ctx.limits
    if doc.serology.hbcab != "positive":
        return _negative(doc.serology.hbcab, "serology.hbcab", "Anti-HBc")
    gaps = absent(doc, "serology.hbv_dna_iu_ml", "serology.hbv_dna_date", "screening_date")
    if gaps:
        return missing(*gaps)
    tested_on, dna = doc.serology.hbv_dna_date, doc.serology.hbv_dna_iu_ml
    start = add_months(doc.screening_date, -limits.hbv_dna_lookback_months)
    if tested_on < start:
        note = (
            f"HBV DNA result of {tested_on} is older than {plural(limits.hbv_dna_lookback_months, 'month')} before the "
            f"screening date {doc.screening_date}; anti-HBc positive needs a result on or after {start}."
        )
        return missing("serology.hbv_dna_iu_ml", "serology.hbv_dna_date", note=note)
    ok = dna < limits.hbv_dna_max_iu_ml
    relation = "below" if ok else "at least"
    limit = fmt(limits.hbv_dna_max_iu_ml)
    return check(ok, f"Anti-HBc positive with HBV DNA {fmt(dna)} IU/mL on {tested_on}, {relation} {limit} IU/mL.")
