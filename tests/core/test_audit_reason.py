"""`require_reason`: every service's guard of the why of a change."""

import pytest

from ctit_trial.audit import REASON_REQUIRED, require_reason
from ctit_trial.errors import InvalidInput


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_a_blank_reason_is_refused(reason):
    with pytest.raises(InvalidInput) as refused:
        require_reason(reason)
    assert refused.value.errors == {"reason": [REASON_REQUIRED]}


@pytest.mark.parametrize("reason", [42, ["typo"], {"why": "typo"}])
def test_a_reason_that_is_not_text_is_refused_naming_the_field(reason):
    with pytest.raises(InvalidInput) as refused:
        require_reason(reason, field="reason_for_change")
    assert refused.value.errors == {"reason_for_change": ["The reason must be text."]}


def test_a_reason_is_returned_stripped():
    assert require_reason("  transcription error \n") == "transcription error"
