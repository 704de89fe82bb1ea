"""A database refusal inside an admin act (a race the service could not see) is a form error in words, not a 500."""

import pytest
from django.db import IntegrityError
from django.test import RequestFactory

from ctit_trial.admin_base import ActForm
from ctit_trial.errors import CONCURRENT_CHANGE

pytestmark = pytest.mark.django_db


class RacedForm(ActForm):
    def run_service(self, actor, cleaned):
        raise IntegrityError("duplicate key value violates unique constraint")


def test_an_integrity_error_becomes_a_form_error_with_words(admin_user):
    request = RequestFactory().post("/")
    request.user = admin_user
    form = type("Raced", (RacedForm,), {"request": request})({}, target=None)

    assert form.is_valid() is False
    assert form.errors == {"__all__": [CONCURRENT_CHANGE]}
    assert form.result is None


def test_an_integrity_error_in_an_admin_view_comes_back_as_a_message_on_the_same_page(admin_user):
    from django.contrib import admin
    from django.contrib.messages.storage.cookie import CookieStorage

    from enrollment.models import Subject

    def raced_view(request):
        raise IntegrityError("duplicate key value violates unique constraint")

    request = RequestFactory().post("/admin/enrollment/subject/?site=1")
    request.user = admin_user
    request._messages = CookieStorage(request)

    response = admin.site._registry[Subject].refusals_as_messages(raced_view)(request)

    assert (response.status_code, response.url) == (302, "/admin/enrollment/subject/?site=1")
    assert [message.message for message in request._messages] == [CONCURRENT_CHANGE]
