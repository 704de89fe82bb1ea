"""The study roles as Django groups, and the model permissions each one grants."""

from dataclasses import dataclass

STUDY_COORDINATOR = "study_coordinator"
INVESTIGATOR = "investigator"
SRC_MEMBER = "src_member"
DATA_MANAGER = "data_manager"
MONITOR = "monitor"
SPONSOR_SAFETY = "sponsor_safety"

# Every clinical model a role may read; each role may read them all (scoping by site is separate). Direct
# identifiers (enrollment.subjectidentity) are not here: only the roles in SITE_STAFF_WRITES may see them.
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
    "safety.notification",
)


@dataclass(frozen=True)
class Role:
    """A study role: its group name, what it may write, and whether it sees every site."""

    key: str
    group_name: str
    writes: tuple[str, ...] = ()
    sees_all_sites: bool = False
    extra: tuple[str, ...] = ()  # custom permissions, as 'app_label.codename'

    def permission_names(self) -> set[str]:
        """Permissions as 'app_label.codename' strings."""
        names = {_perm(model, "view") for model in READABLE_MODELS}
        for entry in self.writes:
            model, _, actions = entry.partition(":")
            names |= {_perm(model, action) for action in actions.split(",")}
        if self.sees_all_sites:
            names.add("enrollment.view_all_sites")
        return names | set(self.extra)


def _perm(model_label: str, action: str) -> str:
    app_label, model = model_label.split(".")
    return f"{app_label}.{action}_{model}"


# Site staff who meet subjects: register them, record identifiers, consent and screening, and enroll.
SITE_STAFF_WRITES = (
    "enrollment.subject:add,change",
    "enrollment.subjectidentity:view,add,change",
    "enrollment.consent:add",
    "enrollment.screening:add,change",
    "safety.visit:add,change",
    "safety.adverseevent:add,change",
    "dosing.infusionplan:add,change",
    "dosing.reconfirmation:add",
    "dosing.preinfusionassessment:add",
    "dosing.infusion:add",
    "dosing.postinfusiondraw:add",
)

ROLES: dict[str, Role] = {
    role.key: role
    for role in (
        Role(
            STUDY_COORDINATOR,
            "Study coordinator",
            writes=SITE_STAFF_WRITES,
            extra=("enrollment.enroll_subject", "safety.resend_notification"),
        ),
        Role(
            INVESTIGATOR,
            "Investigator",
            writes=SITE_STAFF_WRITES,
            extra=(
                "enrollment.enroll_subject",
                "enrollment.sign_eligibility",
                "safety.adjudicate_dlt",
                "safety.report_sae",
                "safety.resend_notification",
            ),
        ),
        Role(
            SRC_MEMBER,
            "SRC member",
            writes=("dosing.srcdecision:add",),
            extra=("dosing.sign_srcdecision", "safety.adjudicate_dlt"),
        ),
        Role(
            DATA_MANAGER,
            "Data manager",
            writes=(
                "enrollment.subject:change",
                "enrollment.site:change",
                "enrollment.screening:change",
                "safety.visit:change",
                "safety.adverseevent:change",
            ),
        ),
        Role(MONITOR, "Monitor", sees_all_sites=True),
        Role(SPONSOR_SAFETY, "Sponsor safety", sees_all_sites=True),
    )
}
GROUP_TO_ROLE = {role.group_name: role.key for role in ROLES.values()}
