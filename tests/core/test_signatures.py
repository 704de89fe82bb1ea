import datetime
from decimal import Decimal

import pytest

from ctit_trial.errors import InvalidInput, PermissionDenied
from ctit_trial.signatures import WRONG_PASSWORD, authenticate_signer, content_digest, printed_name

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
