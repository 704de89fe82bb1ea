import datetime
from copy import copy
from decimal import Decimal
from types import SimpleNamespace

import pytest

from ctit_trial.errors import InvalidInput, PermissionDenied
from ctit_trial.signatures import (
    WRONG_PASSWORD,
    authenticate_signer,
    content_digest,
    printed_name,
    signature_display,
    signature_is_valid,
    signature_mac,
    signature_seal,
    signed_payload,
)
from tests.factories import make_site


def replace(signature, **changes):
    """A copy of the signature with some stored values changed (as someone writing the row would)."""
    changed = copy(signature)
    vars(changed).update(changes)
    return changed


pytestmark = pytest.mark.django_db


def test_right_password_signs(django_user_model):
    user = django_user_model.objects.create_user("dr", password="s3cret-pass-9", first_name="Wang", last_name="Fang")

    authenticate_signer(user=user, password="s3cret-pass-9")

    assert printed_name(user) == "Wang Fang"


@pytest.mark.parametrize("password", ["wrong", "", None])
def test_wrong_or_missing_password_names_the_field(django_user_model, password):
    user = django_user_model.objects.create_user("dr", password="s3cret-pass-9")

    with pytest.raises(InvalidInput) as caught:
        authenticate_signer(user=user, password=password)

    assert caught.value.errors == {"password": [WRONG_PASSWORD]}


def test_inactive_user_cannot_sign(django_user_model):
    user = django_user_model.objects.create_user("dr", password="s3cret-pass-9", is_active=False)

    with pytest.raises(PermissionDenied):
        authenticate_signer(user=user, password="s3cret-pass-9")


def test_digest_ignores_key_order_and_sees_any_value_change():
    content = {"b": Decimal("1.50"), "a": datetime.date(2026, 3, 2)}

    assert content_digest(content) == content_digest({"a": datetime.date(2026, 3, 2), "b": Decimal("1.50")})
    assert content_digest(content) != content_digest({**content, "b": Decimal("1.5")})


SIGNED_AT = datetime.datetime(2026, 3, 4, 3, 0, tzinfo=datetime.UTC)


def sealed(record, *, content=None, signer_id=7, meaning="approved"):
    """A signature (any SignatureFields row behaves the same) sealed over the record and content."""
    signature = SimpleNamespace(signer_id=signer_id, meaning=meaning, signed_at=SIGNED_AT, content_digest="")
    signature_seal(signature, record=record, content=content or {"ecog": 1})
    return signature


def test_the_mac_is_valid_for_its_record_signer_meaning_time_and_content(site_a):
    signature = sealed(site_a)

    assert signature_is_valid(signature, record=site_a, content={"ecog": 1})
    assert not signature_is_valid(signature, record=site_a, content={"ecog": 2})
    assert not signature_is_valid(replace(signature, meaning="reviewed"), record=site_a, content={"ecog": 1})
    assert not signature_is_valid(replace(signature, signer_id=8), record=site_a, content={"ecog": 1})
    later = replace(signature, signed_at=SIGNED_AT + datetime.timedelta(seconds=1))
    assert not signature_is_valid(later, record=site_a, content={"ecog": 1})


def test_a_signature_copied_to_another_record_with_the_same_content_is_invalid(site_a):
    other = make_site(code="SH02")
    signature = sealed(site_a)

    assert not signature_is_valid(signature, record=other, content={"ecog": 1})
    assert signed_payload(record=site_a, signer_id=7, meaning="m", signed_at=SIGNED_AT, content={})["record"] == [
        "enrollment.site",
        site_a.pk,
    ]


def test_a_value_computed_without_the_server_key_is_invalid(site_a):
    payload = signed_payload(record=site_a, signer_id=7, meaning="approved", signed_at=SIGNED_AT, content={"ecog": 1})
    plain = SimpleNamespace(signer_id=7, meaning="approved", signed_at=SIGNED_AT, content_digest="")

    for forged in (content_digest(payload), signature_mac(payload, key="a-guessed-key"), ""):
        plain.content_digest = forged
        assert not signature_is_valid(plain, record=site_a, content={"ecog": 1})


def test_a_new_key_invalidates_old_signatures_unless_kept_as_a_fallback(site_a, settings):
    settings.SIGNATURE_KEY = "first-signature-key-0123456789abcdef"
    signature = sealed(site_a)

    settings.SIGNATURE_KEY = "second-signature-key-0123456789abcdef"
    rotated_away = signature_is_valid(signature, record=site_a, content={"ecog": 1})
    settings.SIGNATURE_KEY_FALLBACKS = ["first-signature-key-0123456789abcdef"]

    assert rotated_away is False
    assert signature_is_valid(signature, record=site_a, content={"ecog": 1}) is True


def test_the_default_key_is_derived_from_the_secret_key(site_a, settings):
    settings.SIGNATURE_KEY = ""
    signature = sealed(site_a)

    settings.SECRET_KEY = "another-secret-key-" + "y" * 40

    assert not signature_is_valid(signature, record=site_a, content={"ecog": 1})


def test_display_shows_printed_name_meaning_and_utc_time():
    signature = SimpleNamespace(printed_name="Wang Fang", meaning="approved", signed_at=SIGNED_AT)

    assert signature_display(signature) == "Wang Fang — approved — 2026-03-04 03:00 UTC"
