"""Someone with write access to the database, not the server key: copying, editing or forging signature rows."""

from ctit_trial.signatures import content_digest, signature_mac, signed_payload


def copy_row(signature, **changes):
    """The signature row written again with some columns changed (e.g. onto another record)."""
    model = type(signature)
    values = {f.attname: getattr(signature, f.attname) for f in model._meta.concrete_fields if not f.primary_key}
    return model.objects.create(**{**values, **changes})


def edit_row(signature, **changes) -> None:
    """Columns of the stored signature changed in place, bypassing the services."""
    type(signature).objects.filter(pk=signature.pk).update(**changes)


def forged_macs(signature, *, record, content) -> list[str]:
    """What one could compute without the server key: a plain SHA-256 of the payload, an HMAC under a guess."""
    payload = signed_payload(
        record=record,
        signer_id=signature.signer_id,
        meaning=signature.meaning,
        signed_at=signature.signed_at,
        content=content,
    )
    return [content_digest(payload), content_digest(content), signature_mac(payload, key="guessed-key")]
