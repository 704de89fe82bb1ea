"""Every signed decision ever stored on a DLT assessment becomes a row of that AE's adjudication chain.

Read from the assessment's history, so an adjudication that a later one overwrote is recovered too, superseded
by the later one. The stored digests are carried over unchanged: they were plain SHA-256, not the server-keyed
MAC, so carried-over adjudications show as invalidated and must be re-adjudicated by a person (with a reason);
nothing is re-signed here.
"""

from django.db import migrations
from django.utils import timezone

CARRIED = "Adjudication carried over from the DLT assessment's history (migration safety 0005)"
OVERWRITTEN = "Was recorded over the previous adjudication before both were kept (found in history by migration 0005)"
SIGNED = ("decision", "decision_reason", "adjudicator_id", "printed_name", "meaning", "signed_at", "content_digest")


def _signed_versions(historical, assessment_id):
    """Each distinct signed decision in the assessment's history, oldest first."""
    seen, versions = set(), []
    for row in historical.objects.filter(id=assessment_id).order_by("history_date", "history_id"):
        values = tuple(getattr(row, name) for name in SIGNED)
        if row.decision and values not in seen:
            seen.add(values)
            versions.append(dict(zip(SIGNED, values, strict=True)))
    return versions


def forwards(apps, schema_editor):
    assessments = apps.get_model("safety", "DltAssessment")
    adjudications = apps.get_model("safety", "DltAdjudication")
    history = apps.get_model("safety", "HistoricalDltAdjudication")
    historical_assessments = apps.get_model("safety", "HistoricalDltAssessment")
    for assessment in assessments.objects.order_by("pk"):
        previous = None
        for version in _signed_versions(historical_assessments, assessment.pk):
            signer_id = version.pop("adjudicator_id")
            row = adjudications.objects.create(
                assessment=assessment,
                signer_id=signer_id,
                supersedes=previous,
                reason_for_change=OVERWRITTEN if previous else "",
                **version,
            )
            fields = {field.attname: getattr(row, field.attname) for field in adjudications._meta.concrete_fields}
            history.objects.create(
                **fields, history_date=timezone.now(), history_type="+", history_user_id=signer_id,
                history_change_reason=CARRIED,
            )
            previous = row


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0004_dlt_adjudication_chain"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
