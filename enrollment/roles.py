"""The role table: which study role may perform which act. Group permissions, the API, the admin and the README's
role table are all derived from it (docs/adr/0011-role-table.md)."""

from dataclasses import dataclass
from enum import StrEnum

STUDY_COORDINATOR = "study_coordinator"
INVESTIGATOR = "investigator"
SRC_MEMBER = "src_member"
DATA_MANAGER = "data_manager"
MONITOR = "monitor"
SPONSOR_SAFETY = "sponsor_safety"

# Every clinical model a role may read (scoping by site is separate). Direct identifiers
# (enrollment.subjectidentity) are not here: reading them is its own act.
READABLE_MODELS = (
    "enrollment.protocol",
    "enrollment.site",
    "enrollment.sitemembership",
    "enrollment.subject",
    "enrollment.criterion",
    "enrollment.consent",
    "enrollment.screening",
    "enrollment.screeninglab",
    "enrollment.screeningserology",
    "enrollment.eligibilityevaluation",
    "enrollment.criterionverdict",
    "enrollment.eligibilitysignature",
    "enrollment.screenfailure",
    "enrollment.discontinuation",
    "dosing.doselevel",
    "safety.visitdefinition",
    "safety.ctcaeterm",
    "safety.visit",
    "safety.adverseevent",
    "safety.dltassessment",
    "safety.saereport",
    "dosing.doseslot",
    "dosing.infusion",
    "dosing.srcdecision",
    "dosing.srcsignature",
    "dosing.infusionplan",
    "dosing.reconfirmation",
    "dosing.preinfusionassessment",
    "dosing.vitalsigns",
    "dosing.postinfusiondraw",
    "dosing.dosingdaycorrection",
    "safety.labresult",
    "safety.temperaturerecord",
    "safety.notification",
)


class Act(StrEnum):
    """One thing a user does in the service (an API operation, an admin page or action)."""

    READ = "read"
    READ_ALL_SITES = "read_all_sites"
    READ_IDENTITY = "read_identity"
    REGISTER_SUBJECT = "register_subject"
    RECORD_IDENTITY = "record_identity"
    RECORD_CONSENT = "record_consent"
    RECORD_SCREENING = "record_screening"
    CORRECT_SCREENING = "correct_screening"
    SIGN_ELIGIBILITY = "sign_eligibility"
    ENROLL = "enroll"
    EDIT_SITE = "edit_site"
    OPEN_FIRST_LEVEL = "open_first_level"
    RECORD_SRC_DECISION = "record_src_decision"
    SIGN_SRC_DECISION = "sign_src_decision"
    SCHEDULE_INFUSION = "schedule_infusion"
    RECORD_RECONFIRMATION = "record_reconfirmation"
    RECORD_ASSESSMENT = "record_assessment"
    RECORD_INFUSION = "record_infusion"
    RECORD_DRAW = "record_draw"
    CORRECT_DOSING_DAY = "correct_dosing_day"
    CREATE_VISIT_SCHEDULE = "create_visit_schedule"
    RECORD_VISIT = "record_visit"
    MARK_VISIT_MISSED = "mark_visit_missed"
    CLOSE_OUT = "close_out"
    DISCONTINUE_SUBJECT = "discontinue_subject"
    RECORD_AE = "record_ae"
    CORRECT_AE = "correct_ae"
    ADJUDICATE_DLT = "adjudicate_dlt"
    REPORT_SAE = "report_sae"
    RESEND_NOTIFICATION = "resend_notification"
    MANAGE_MEMBERSHIPS = "manage_memberships"
    READ_SECURITY_LOG = "read_security_log"


@dataclass(frozen=True)
class ActSpec:
    """What an act means to people (the README) and which Django permissions grant it."""

    label: str
    permissions: tuple[str, ...]


ACTS: dict[Act, ActSpec] = {
    Act.READ: ActSpec("read (study numbers, no identifiers)", tuple(m.replace(".", ".view_") for m in READABLE_MODELS)),
    Act.READ_ALL_SITES: ActSpec("read every site", ("enrollment.view_all_sites",)),
    Act.READ_IDENTITY: ActSpec("read direct identifiers", ("enrollment.view_subjectidentity",)),
    Act.REGISTER_SUBJECT: ActSpec("register a subject", ("enrollment.add_subject",)),
    Act.RECORD_IDENTITY: ActSpec(
        "record identifiers", ("enrollment.add_subjectidentity", "enrollment.change_subjectidentity")
    ),
    Act.RECORD_CONSENT: ActSpec("record consent", ("enrollment.add_consent",)),
    Act.RECORD_SCREENING: ActSpec("enter a screening", ("enrollment.add_screening",)),
    Act.CORRECT_SCREENING: ActSpec("correct a screening (with reason)", ("enrollment.change_screening",)),
    Act.SIGN_ELIGIBILITY: ActSpec("sign eligibility", ("enrollment.sign_eligibility",)),
    Act.ENROLL: ActSpec("enroll, screen-fail, move a dose slot to the open level", ("enrollment.enroll_subject",)),
    Act.EDIT_SITE: ActSpec("edit their site's details", ("enrollment.change_site",)),
    Act.OPEN_FIRST_LEVEL: ActSpec("open level 1 (trial start)", ("dosing.change_doselevel",)),
    Act.RECORD_SRC_DECISION: ActSpec("record an SRC decision", ("dosing.add_srcdecision",)),
    Act.SIGN_SRC_DECISION: ActSpec("sign an SRC decision", ("dosing.sign_srcdecision",)),
    Act.SCHEDULE_INFUSION: ActSpec(
        "schedule, reschedule the infusion", ("dosing.add_infusionplan", "dosing.change_infusionplan")
    ),
    Act.RECORD_RECONFIRMATION: ActSpec("D−1 reconfirmation", ("dosing.add_reconfirmation",)),
    Act.RECORD_ASSESSMENT: ActSpec("D0 assessment", ("dosing.add_preinfusionassessment",)),
    Act.RECORD_INFUSION: ActSpec("infusion", ("dosing.add_infusion",)),
    Act.CORRECT_DOSING_DAY: ActSpec(
        "correct D−1, D0 assessment, infusion times, vital signs (with reason)", ("dosing.correct_dosingday",)
    ),
    Act.RECORD_DRAW: ActSpec("post-infusion draws", ("dosing.add_postinfusiondraw",)),
    Act.CREATE_VISIT_SCHEDULE: ActSpec("create the visit schedule", ("safety.add_visit",)),
    Act.RECORD_VISIT: ActSpec("record a visit", ("safety.change_visit",)),
    Act.MARK_VISIT_MISSED: ActSpec("mark a visit missed", ("safety.mark_visit_missed",)),
    Act.CLOSE_OUT: ActSpec("close out follow-up", ("safety.close_out_subject",)),
    Act.DISCONTINUE_SUBJECT: ActSpec(
        "record a withdrawal, loss to follow-up or death", ("enrollment.add_discontinuation",)
    ),
    Act.RECORD_AE: ActSpec("record an AE, a lab result", ("safety.add_adverseevent",)),
    Act.CORRECT_AE: ActSpec("correct an AE (with reason)", ("safety.change_adverseevent",)),
    Act.ADJUDICATE_DLT: ActSpec("adjudicate a DLT candidate", ("safety.adjudicate_dlt",)),
    Act.REPORT_SAE: ActSpec("report an SAE to the sponsor", ("safety.report_sae",)),
    Act.RESEND_NOTIFICATION: ActSpec("resend a reminder", ("safety.resend_notification",)),
    Act.MANAGE_MEMBERSHIPS: ActSpec(
        "grant, revoke site memberships", ("enrollment.add_sitemembership", "enrollment.change_sitemembership")
    ),
    Act.READ_SECURITY_LOG: ActSpec(
        "read the login and signature failure log",
        ("axes.view_accessattempt", "axes.view_accessfailurelog", "axes.view_accesslog"),
    ),
}


@dataclass(frozen=True)
class Role:
    """A study role: its group name, its acts, and whether it sees every site."""

    key: str
    group_name: str
    acts: frozenset[Act]

    @property
    def sees_all_sites(self) -> bool:
        return Act.READ_ALL_SITES in self.acts

    def permission_names(self) -> set[str]:
        """The Django permissions ('app_label.codename') the role's group holds: exactly those of its acts."""
        return {name for act in self.acts for name in ACTS[act].permissions}


SITE_STAFF_ACTS = frozenset(
    {
        Act.READ,
        Act.READ_IDENTITY,
        Act.REGISTER_SUBJECT,
        Act.RECORD_IDENTITY,
        Act.RECORD_CONSENT,
        Act.RECORD_SCREENING,
        Act.CORRECT_SCREENING,
        Act.ENROLL,
        Act.SCHEDULE_INFUSION,
        Act.RECORD_RECONFIRMATION,
        Act.RECORD_ASSESSMENT,
        Act.RECORD_INFUSION,
        Act.RECORD_DRAW,
        Act.CORRECT_DOSING_DAY,
        Act.CREATE_VISIT_SCHEDULE,
        Act.RECORD_VISIT,
        Act.MARK_VISIT_MISSED,
        Act.CLOSE_OUT,
        Act.DISCONTINUE_SUBJECT,
        Act.RECORD_AE,
        Act.CORRECT_AE,
        Act.RESEND_NOTIFICATION,
    }
)

ROLES: dict[str, Role] = {
    role.key: role
    for role in (
        Role(STUDY_COORDINATOR, "Study coordinator", SITE_STAFF_ACTS),
        Role(INVESTIGATOR, "Investigator", SITE_STAFF_ACTS | {Act.SIGN_ELIGIBILITY, Act.REPORT_SAE}),
        Role(
            SRC_MEMBER,
            "SRC member",
            frozenset(
                {Act.READ, Act.RECORD_SRC_DECISION, Act.SIGN_SRC_DECISION, Act.ADJUDICATE_DLT, Act.OPEN_FIRST_LEVEL}
            ),
        ),
        Role(DATA_MANAGER, "Data manager", frozenset({Act.READ, Act.CORRECT_SCREENING, Act.EDIT_SITE})),
        Role(MONITOR, "Monitor", frozenset({Act.READ, Act.READ_ALL_SITES, Act.READ_SECURITY_LOG})),
        Role(SPONSOR_SAFETY, "Sponsor safety", frozenset({Act.READ, Act.READ_ALL_SITES})),
    )
}
GROUP_TO_ROLE = {role.group_name: role.key for role in ROLES.values()}


def act_permissions(act: Act) -> tuple[str, ...]:
    """The Django permissions that grant an act."""
    return ACTS[act].permissions


def may(user, act: Act) -> bool:
    """Whether the user may perform the act (superusers may do everything; site scoping is checked apart)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.has_perms(ACTS[act].permissions)


def roles_with(act: Act) -> list[Role]:
    """The roles whose table row includes the act."""
    return [role for role in ROLES.values() if act in role.acts]


def role_table_markdown() -> str:
    """The README's role table: each role with the acts it may perform (generated from ROLES)."""
    lines = ["| Role | Sites | Permitted acts |", "|---|---|---|"]
    for role in ROLES.values():
        sites = "every site (read-only)" if role.sees_all_sites else "their sites"
        acts = "; ".join(ACTS[act].label for act in Act if act in role.acts and act not in _SCOPE_ACTS)
        lines.append(f"| {role.group_name} | {sites} | {acts} |")
    lines.append("| Superuser | every site | everything, including site memberships; never history edits |")
    return "\n".join(lines)


_SCOPE_ACTS = frozenset({Act.READ_ALL_SITES})
