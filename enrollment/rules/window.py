"""When a signed-eligible subject may be enrolled: the screening window and the enrollment day (pure)."""

from datetime import date, timedelta


def screening_window_problem(*, screening_date: date, infusion_day: date | None, labs_valid_days: int) -> str | None:
    """Why the screening cannot support dosing on D0 (labs valid `labs_valid_days` before D0); None if it can."""
    if infusion_day is None:
        return "The planned infusion time is not recorded: the screening window cannot be checked."
    if screening_date > infusion_day:
        return f"The screening date {screening_date} is after the planned infusion day (D0) {infusion_day}."
    earliest = infusion_day - timedelta(days=labs_valid_days)
    if screening_date < earliest:
        return (
            f"The screening of {screening_date} is outside the screening window: labs are valid {labs_valid_days} "
            f"days before D0 ({infusion_day}), so the screening must be on or after {earliest}. Re-screen the subject."
        )
    return None


def enrollment_day_problem(*, today: date, planned_enrollment_date: date | None, infusion_day: date) -> str | None:
    """Why today is not a day to enroll: D0 has passed, or it is not the enrollment date eligibility assumed."""
    if today > infusion_day:
        return f"The planned infusion day (D0) {infusion_day} has passed: correct the screening and sign again."
    if planned_enrollment_date is not None and today != planned_enrollment_date:
        return (
            f"Today ({today}) is not the planned enrollment date {planned_enrollment_date} that eligibility was "
            f"evaluated against: correct the planned enrollment date (with a reason) and sign again."
        )
    return None
