"""What each reminder email says: every kind rendered (text and HTML) with its dates, never a template tag left
over; the DLT-candidate alert reaches the site's investigators as well as the SRC, once each."""

import re
from collections import defaultdict
from datetime import date

import pytest

from enrollment.roles import INVESTIGATOR
from safety import services
from safety.models import Notification
from safety.rules.reminders import ReminderKind
from tests.factories import make_adverse_event, make_infusion
from tests.safety.email_situations import NAUSEA, every_kind_sent, sweep_and_send, utc
from tests.safety.reminder_world import build_world, enrolled_subject, staff

pytestmark = pytest.mark.django_db
TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
BJ_TEAM = ["coordinator.bj@example.org", "investigator.bj@example.org"]
BE_TEAM = ["coordinator.be@example.org", "investigator.be@example.org"]
D_MINUS_1_FACTS = ["2030-03-10", "Infusion: 2030-03-11 09:00 (Asia/Shanghai, UTC+08:00) (D0 2030-03-11)"]
CUT_OFF = "2030-03-10 16:00 (Asia/Shanghai, UTC+08:00)"
D7_WINDOW = "Window: 2030-06-07 to 2030-06-09, target 2030-06-08"
SAE_FACTS = [
    "Aware: 2030-06-02 06:30 (Asia/Shanghai, UTC+08:00)",
    "Report by: 2030-06-03 06:30 (Asia/Shanghai, UTC+08:00)",
]

# What the text body of each kind must say (whitespace collapsed), beyond the greeting, subject and link.
TEXT_FACTS = {
    "d_minus_1_draw_tomorrow": ["Tomorrow, 2030-03-10, is D−1 for S-BJ01-001", *D_MINUS_1_FACTS, f"Cut-off: {CUT_OFF}"],
    "d_minus_1_morning": ["Today, 2030-03-10, is D−1 for S-BJ01-001", *D_MINUS_1_FACTS, f"cut-off at {CUT_OFF}"],
    "reconfirmation_missing": ["No D−1 reconfirmation result is recorded for S-BJ01-001", f"cut-off ({CUT_OFF})"],
    "visit_window_open": [
        "The window of the D7 visit of S-BE01-001 opens today, 2030-06-07; the target day is 2030-06-08 and the "
        "window closes on 2030-06-09.",
        D7_WINDOW,
    ],
    "visit_target_day": [
        "Today, 2030-06-08, is the target day of the D7 visit of S-BE01-001 (window 2030-06-07 to 2030-06-09).",
        D7_WINDOW,
    ],
    "visit_overdue": ["The window of the D7 visit of S-BE01-001 closed on 2030-06-09", D7_WINDOW],
    "sae_reminder": ["The serious adverse event of S-BJ01-002 is not yet reported", *SAE_FACTS],
    "sae_overdue": ["was due to be reported to the sponsor by 2030-06-03 06:30 (Asia/Shanghai, UTC+08:00)", *SAE_FACTS],
    "dlt_candidate": ["An adverse event of S-BE01-001 is flagged as a DLT candidate", "Event: Nausea, grade 3"],
    "src_decision_due": ["The escalation engine recommends escalate (level 2)", "Path: 1N"],
}
HTML_FACTS = {  # the same dates in the HTML part's table
    "d_minus_1_draw_tomorrow": [
        "<td>2030-03-11 09:00 (Asia/Shanghai, UTC+08:00) (D0 2030-03-11)</td>",
        f"<td>{CUT_OFF}</td>",
    ],
    "d_minus_1_morning": [
        "<td>2030-03-11 09:00 (Asia/Shanghai, UTC+08:00) (D0 2030-03-11)</td>",
        f"<td>{CUT_OFF}</td>",
    ],
    "reconfirmation_missing": [f"<td>{CUT_OFF}</td>"],
    "visit_window_open": ["<td>2030-06-07 to 2030-06-09, target 2030-06-08</td>"],
    "visit_target_day": [
        "(window 2030-06-07 to 2030-06-09)",
        "<td>2030-06-07 to 2030-06-09, target 2030-06-08</td>",
    ],
    "visit_overdue": ["<td>2030-06-07 to 2030-06-09, target 2030-06-08</td>"],
    "sae_reminder": ["<td>2030-06-03 06:30 (Asia/Shanghai, UTC+08:00)</td>"],
    "sae_overdue": ["<td>2030-06-03 06:30 (Asia/Shanghai, UTC+08:00)</td>"],
    "dlt_candidate": ["<td>Nausea, grade 3, onset 2030-06-02</td>"],
    "src_decision_due": ["<td>1N</td>"],
}


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def at(time_machine):
    def move(instant):
        time_machine.move_to(instant, tick=False)
        return instant

    move(utc(2030, 3, 1))
    return move


def test_every_kind_renders_its_dates_in_text_and_html_with_no_template_syntax_left(at):
    world = build_world()
    sent = defaultdict(list)

    every_kind_sent(world, at, lambda row, message: sent[row.kind].append(message))

    assert {kind: len(messages) for kind, messages in sent.items()} == {
        "d_minus_1_draw_tomorrow": 2,
        "d_minus_1_morning": 2,
        "reconfirmation_missing": 2,
        "sae_reminder": 4,  # 12 h and 20 h, to the investigator and the sponsor
        "sae_overdue": 2,
        "dlt_candidate": 2,
        "visit_window_open": 2,
        "visit_target_day": 2,
        "visit_overdue": 2,
        "src_decision_due": 1,
    }
    assert set(sent) == {kind.value for kind in ReminderKind}
    for kind, messages in sent.items():
        for message in messages:
            html = message.alternatives[0][0]
            assert TEMPLATE_SYNTAX.findall(message.subject + message.body + html) == [], (kind, message.body)
            assert [fact for fact in TEXT_FACTS[kind] if fact not in one_line(message.body)] == [], kind
            assert [fact for fact in HTML_FACTS[kind] if fact not in one_line(html)] == [], kind


def test_the_target_day_email_prints_the_window_it_falls_in(at):
    world = build_world()
    sent = {}

    every_kind_sent(world, at, lambda row, message: sent.setdefault((row.kind, row.recipient_email), message))

    message = sent[("visit_target_day", BE_TEAM[0])]
    assert message.subject == "[XJ-MK-002] S-BE01-001: D7 visit target day 2030-06-08 (window until 2030-06-09)"
    assert one_line(message.body).startswith(
        "Dear Coordinator Tester, Today, 2030-06-08, is the target day of the D7 visit of S-BE01-001 "
        "(window 2030-06-07 to 2030-06-09). Subject: S-BE01-001 at site BE01 (Berlin) "
        "Visit: D7 (Day 7): PLT, AEs Window: 2030-06-07 to 2030-06-09, target 2030-06-08 "
        "Reminder: 2030-06-08 08:00 (Europe/Berlin, UTC+02:00)"
    )


def test_a_dlt_candidate_alert_goes_once_to_the_src_and_once_to_each_investigator_of_the_subjects_site(at):
    world = build_world()
    staff("investigator2-bj", INVESTIGATOR, [world.shanghai], "investigator2.bj@example.org")
    at(utc(2030, 6, 3, 2, 0))
    subject = make_infusion(subject=enrolled_subject(world.shanghai), level=1, started_at=utc(2030, 6, 1, 1, 0)).subject
    make_adverse_event(
        subject=subject, onset_date=date(2030, 6, 2), actor=world.users["investigator-bj"], grade=3, **NAUSEA
    )
    sent = []

    sweep_and_send(at(utc(2030, 6, 3, 2, 5)), lambda row, message: sent.append((row.recipient_email, message.to)))
    again = services.notifications_sweep(now=at(utc(2030, 6, 3, 2, 10)))

    assert sent == [
        ("src@example.org", ["src@example.org"]),
        ("investigator.bj@example.org", ["investigator.bj@example.org"]),
        ("investigator2.bj@example.org", ["investigator2.bj@example.org"]),
    ]  # not the coordinator, nor the other site's investigator
    assert again == []
    rows = Notification.objects.order_by("pk")
    assert [(row.kind, row.recipient.username, row.site.code, row.status) for row in rows] == [
        ("dlt_candidate", "src", "BJ01", "sent"),
        ("dlt_candidate", "investigator-bj", "BJ01", "sent"),
        ("dlt_candidate", "investigator2-bj", "BJ01", "sent"),
    ]
