"""Every reminder email links to the admin page where its recipient does what it asks: each link, opened by the
recipient when the email arrives, answers 200 with the act's form (or button) on the page."""

import html
import re
from datetime import date

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from dosing import services as dosing_services
from enrollment.roles import SRC_MEMBER
from safety import services
from safety.models import Notification
from safety.rules.reminders import parse_ref
from tests.safety.email_situations import every_kind_sent, utc
from tests.safety.reminder_world import build_world, staff

pytestmark = pytest.mark.django_db
RECONFIRMATION = "/admin/dosing/reconfirmation/add/?subject={subject}"
VISIT = "/admin/safety/visit/{visit}/change/"
ADJUDICATE = "/admin/safety/adverseevent/{ae}/act/adjudicate/"
SAE_REPORT = "/admin/safety/adverseevent/{ae}/act/sae_report/"
AE_PAGE = "/admin/safety/adverseevent/{ae}/change/"
SRC_DECISION_ADD = "/admin/dosing/srcdecision/add/"
SRC_SIGN = "/admin/dosing/srcdecision/{decision}/act/sign/"

# The page each recipient is sent to, by kind and recipient.
LINKS = {
    **{
        (kind, user): RECONFIRMATION
        for kind in ("d_minus_1_draw_tomorrow", "d_minus_1_morning", "reconfirmation_missing")
        for user in ("coordinator-bj", "investigator-bj")
    },
    **{
        (kind, user): VISIT
        for kind in ("visit_window_open", "visit_target_day", "visit_overdue")
        for user in ("coordinator-be", "investigator-be")
    },
    ("sae_reminder", "investigator-bj"): SAE_REPORT,  # the investigator reports the SAE to the sponsor
    ("sae_reminder", "sponsor"): AE_PAGE,  # the sponsor follows the clock on the AE's page
    ("sae_overdue", "investigator-bj"): SAE_REPORT,
    ("sae_overdue", "sponsor"): AE_PAGE,
    ("dlt_candidate", "src"): ADJUDICATE,
    ("dlt_candidate", "investigator-be"): AE_PAGE,  # the site's investigator reviews the AE
    ("src_decision_due", "src"): SRC_DECISION_ADD,
}

# What the page must hold for the act to be done there (the form's fields, the act's button).
ACT_ON_PAGE = {
    RECONFIRMATION: ['<option value="{subject}" selected>', 'name="drawn_at_0"', 'name="platelets"'],
    VISIT: ['name="visit_date"', 'name="platelets"'],
    ADJUDICATE: ['name="decision"', 'name="reason"', 'name="password"'],
    SAE_REPORT: ['name="reported_at_0"', 'name="password"'],
    AE_PAGE: ["{study_number}", 'name="_save"'],
    SRC_DECISION_ADD: ['name="members_present"', 'name="decision"', 'name="dose_level"'],
    SRC_SIGN: ["Sign decision", 'name="password"'],
}
# The words of each link: the act it leads to, in the text part ("words: link") and the HTML part alike.
LINK_WORDS = {
    RECONFIRMATION: "Record the D−1 platelet reconfirmation",
    VISIT: "Record the visit (or mark it missed)",
    ADJUDICATE: "Adjudicate the DLT candidate",
    SAE_REPORT: "Report the SAE",
    AE_PAGE: "Open the adverse event",
    SRC_DECISION_ADD: "Record the SRC decision",
    SRC_SIGN: "Sign the SRC decision",
}
SPONSOR_AE_PAGE = ["{study_number}", "Nausea"]  # the sponsor reads the AE; no act of the site's is offered


def links_in(message) -> list[str]:
    """The admin links of the email; the text and the HTML parts must carry the same ones."""
    text_links = re.findall(r"https?://\S+", message.body)
    html_links = [html.unescape(link) for link in re.findall(r'href="([^"]+)"', message.alternatives[0][0])]
    assert text_links == html_links, (text_links, html_links)
    return text_links


def placeholders(row: Notification) -> dict:
    _, pk = parse_ref(row.object_ref)
    study_number = row.subject.study_number if row.subject else ""
    return {"subject": row.subject_id, "visit": pk, "ae": pk, "study_number": study_number}


def opened_by_recipient(row: Notification, link: str) -> tuple[int, str]:
    """The recipient, logged in, opens the link (the session ends before the clock moves on)."""
    assert link.startswith(f"{settings.SITE_URL}/admin/"), link
    client = Client()
    client.force_login(row.recipient)
    response = client.get(link.removeprefix(settings.SITE_URL))
    client.logout()
    return response.status_code, response.content.decode()


@pytest.fixture
def at(time_machine):
    def move(instant):
        time_machine.move_to(instant, tick=False)
        return instant

    move(utc(2030, 3, 1))
    return move


def test_each_reminder_links_its_recipient_to_the_page_of_the_act_it_asks_for(at):
    world = build_world()
    opened, expected = [], []

    def open_links(row, message):
        values, user = placeholders(row), row.recipient.username
        page_kind = LINKS[(row.kind, user)]
        needles = SPONSOR_AE_PAGE if user == "sponsor" else ACT_ON_PAGE[page_kind]
        if row.kind == "visit_overdue":  # the window has closed: the visit may now be marked missed too
            needles = [*needles, 'href="/admin/safety/visit/{visit}/act/missed/"']
        (link,) = links_in(message)
        status, page = opened_by_recipient(row, link)
        missing = [needle.format(**values) for needle in needles if needle.format(**values) not in page]
        words = LINK_WORDS[page_kind]
        worded = f"{words}: {link}\n" in message.body and f">{words}</a>" in message.alternatives[0][0]
        opened.append((row.kind, user, link.removeprefix(settings.SITE_URL), status, missing, worded))
        expected.append((row.kind, user, page_kind.format(**values), 200, [], True))

    every_kind_sent(world, at, open_links)

    assert opened == expected
    assert {(kind, user) for kind, user, *_ in opened} == set(LINKS)
    assert len(opened) == 21


def test_the_src_decision_reminder_links_to_the_signature_once_a_decision_awaits_it(at):
    # given: the decision due (level 1's window complete), then recorded by the SRC, one more member present
    world = build_world()
    every_kind_sent(world, at, lambda row, message: None)
    src2 = staff("src2", SRC_MEMBER, [world.shanghai, world.berlin], "")  # present at the meeting, no address
    decision = dosing_services.src_decision_record(
        actor=world.users["src"],
        meeting_date=date(2030, 6, 29),
        data_cutoff=utc(2030, 6, 29, 21, 30),
        members=[world.users["src"], src2],
        decision="escalate",
        dose_level=2,
    )
    original = Notification.objects.get(kind="src_decision_due")

    # when: the reminder is sent again (a coordinator asks for it), and the SRC member opens its link
    resend = services.notification_resend(actor=world.users["coordinator-be"], notification=original, reason="Lost")
    status = services.notification_deliver(notification_id=resend.pk, now=at(utc(2030, 6, 29, 22, 5)))
    (link,) = links_in(mail.outbox[-1])

    # then: the link is the decision's signature page, with the form to sign
    assert (status, mail.outbox[-1].to) == ("sent", ["src@example.org"])
    assert link == f"{settings.SITE_URL}/admin/dosing/srcdecision/{decision.pk}/act/sign/"
    status, page = opened_by_recipient(resend, link)
    assert status == 200
    assert [needle for needle in ACT_ON_PAGE[SRC_SIGN] if needle not in page] == []
