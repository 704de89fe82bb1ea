"""The workspace pages of the admin: a subject's casebook (read-only, printable) and today's work on the index."""

from functools import wraps

from django.template.response import TemplateResponse
from django.utils import timezone

from ctit_trial.admin_base import rendered
from ctit_trial.site_time import working_zone, zone_label
from ctit_trial.workspace.chart import platelet_chart, platelet_readings
from ctit_trial.workspace.selectors import casebook, casebook_subject
from ctit_trial.workspace.timeline import milestones
from ctit_trial.workspace.today import todays_work
from enrollment.models import Subject
from enrollment.roles import Act, may
from safety.models import Notification

# Acts a casebook line links to, for members of the subject's site whose role holds them.
CASEBOOK_ACTS = (Act.ADJUDICATE_DLT, Act.REPORT_SAE, Act.RESEND_NOTIFICATION)


def casebook_view(model_admin):
    """The casebook page of the subject admin `model_admin` (wrap it with `act_view(…, Act.READ)`)."""

    def view(request, object_id):
        subject = casebook_subject(request.user, pk=object_id)
        with working_zone(subject.site.zone):  # the subject's times read in its site's zone
            book = casebook(subject, now=timezone.now())
            member = model_admin.is_member_site_row(request, subject)
            context = {
                **model_admin.admin_site.each_context(request),
                "title": f"Casebook of {subject.study_number}",
                "opts": Subject._meta,
                "book": book,
                "timeline": milestones(book),
                "chart": platelet_chart(platelet_readings(book)),
                "acts": {act.value for act in CASEBOOK_ACTS if member and may(request.user, act)},
                "resendable": (Notification.Status.FAILED, Notification.Status.UNCERTAIN),
                "zone": zone_label(),
            }
            return rendered(TemplateResponse(request, "admin/casebook.html", context))

    return view


def index_with_todays_work(index):
    """The admin index view, given today's work of the user's role at their sites."""

    @wraps(index)
    def view(request, extra_context=None):
        return index(request, {"todays_work": todays_work(request.user), **(extra_context or {})})

    return view
