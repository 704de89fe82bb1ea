"""The role matrix: every admin URL, admin action and API operation, for seven users of two sites, against the one
role table (enrollment/roles.py). Adding a URL, action or operation without an entry below fails this module."""

import re
from functools import cache

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from enrollment.roles import ROLES, Act
from tests.core.role_matrix_world import SITE_CODES, USERS, identity_of, module_world

R = Act.READ
OUR_APPS = ("enrollment", "dosing", "safety")

# model label -> (act to see its pages, act to open its add page or None: nobody adds there)
ADMIN_MODEL_ACTS: dict[str, tuple[Act, Act | None]] = {
    "enrollment.protocol": (R, None),
    "enrollment.criterion": (R, None),
    "enrollment.site": (R, None),
    "enrollment.sitemembership": (R, Act.MANAGE_MEMBERSHIPS),
    "enrollment.subject": (R, Act.REGISTER_SUBJECT),
    "enrollment.subjectidentity": (Act.READ_IDENTITY, Act.RECORD_IDENTITY),
    "enrollment.consent": (R, None),
    "enrollment.screening": (R, None),
    "enrollment.eligibilityevaluation": (R, None),
    "enrollment.eligibilitysignature": (R, None),
    "enrollment.screenfailure": (R, None),
    "enrollment.discontinuation": (R, Act.DISCONTINUE_SUBJECT),
    "dosing.doselevel": (R, None),
    "dosing.doseslot": (R, None),
    "dosing.srcdecision": (R, Act.RECORD_SRC_DECISION),
    "dosing.infusionplan": (R, Act.SCHEDULE_INFUSION),
    "dosing.reconfirmation": (R, Act.RECORD_RECONFIRMATION),
    "dosing.preinfusionassessment": (R, Act.RECORD_ASSESSMENT),
    "dosing.infusion": (R, Act.RECORD_INFUSION),
    "dosing.postinfusiondraw": (R, Act.RECORD_DRAW),
    "dosing.dosingdaycorrection": (R, Act.CORRECT_DOSING_DAY),
    "safety.visitdefinition": (R, None),
    "safety.ctcaeterm": (R, None),
    "safety.visit": (R, None),
    "safety.adverseevent": (R, Act.RECORD_AE),
    "safety.dltassessment": (R, None),
    "safety.saereport": (R, None),
    "safety.notification": (R, None),
    "safety.labresult": (R, Act.RECORD_AE),
    "safety.temperaturerecord": (R, Act.RECORD_AE),
}
# Other apps' models whose changelist a role of the table reads (their other pages: superusers only).
ADMIN_OTHER_APP_ACTS: dict[str, Act] = {
    "axes.accessattempt": Act.READ_SECURITY_LOG,
    "axes.accessfailurelog": Act.READ_SECURITY_LOG,
    "axes.accesslog": Act.READ_SECURITY_LOG,
}
ADMIN_CUSTOM_VIEWS: dict[str, Act] = {"dosing_today": R, "dosing_trial_status": R, "dosing_trial_status_chart": R}
# A record's custom pages (URL name -> model label): answered like the record's own page, for each site's record.
ADMIN_RECORD_VIEWS: dict[str, str] = {"subject_casebook": "enrollment.subject"}
ADMIN_ACTIONS: dict[str, Act] = {
    "enrollment.subject.enroll": Act.ENROLL,
    "enrollment.screening.evaluate_again": Act.RECORD_SCREENING,
    "dosing.doselevel.open_first_level": Act.OPEN_FIRST_LEVEL,
    "dosing.doseslot.move_to_open_level": Act.ENROLL,
    "safety.notification.resend": Act.RESEND_NOTIFICATION,
}
# Clinical acts offered as buttons on a record's admin page ("<model label>.<act name>" -> act of the table).
ADMIN_OBJECT_ACTS: dict[str, Act] = {
    "enrollment.subject.consent": Act.RECORD_CONSENT,
    "enrollment.subject.screening": Act.RECORD_SCREENING,
    "enrollment.subject.correct_screening": Act.CORRECT_SCREENING,
    "enrollment.subject.enroll": Act.ENROLL,
    "enrollment.subject.screen_fail": Act.ENROLL,
    "enrollment.subject.discontinue": Act.DISCONTINUE_SUBJECT,
    "enrollment.screening.evaluate": Act.RECORD_SCREENING,
    "enrollment.screening.sign": Act.SIGN_ELIGIBILITY,
    "safety.visit.missed": Act.MARK_VISIT_MISSED,
    "safety.adverseevent.adjudicate": Act.ADJUDICATE_DLT,
    "safety.adverseevent.sae_report": Act.REPORT_SAE,
    "enrollment.subject.close_out": Act.CLOSE_OUT,
    "safety.notification.resend": Act.RESEND_NOTIFICATION,
    "dosing.srcdecision.sign": Act.SIGN_SRC_DECISION,
    "dosing.infusionplan.reschedule": Act.SCHEDULE_INFUSION,
    "dosing.infusionplan.gate_fail": Act.ENROLL,
}
# The admin site's own pages (no clinical data) and the model pages outside the role table.
ADMIN_SITE_VIEWS = {"index", "login", "logout", "password_change", "password_change_done", "jsi18n", "app_list"}
ADMIN_SITE_VIEWS |= {
    "autocomplete",
    "view_on_site",
    "two-factor",
}  # two-factor: your own device (ADR 9)  # autocomplete: tested through get_search_results below
MODEL_URL_KINDS = ("changelist", "add", "change", "history", "delete", "simple_history")

API_OPERATIONS: dict[tuple[str, str], Act | None] = {
    ("GET", "/api/v1/adverse-events/"): R,
    ("POST", "/api/v1/adverse-events/"): Act.RECORD_AE,
    ("GET", "/api/v1/adverse-events/{id}/"): R,
    ("PATCH", "/api/v1/adverse-events/{id}/"): Act.CORRECT_AE,
    ("POST", "/api/v1/adverse-events/{id}/adjudicate/"): Act.ADJUDICATE_DLT,
    ("POST", "/api/v1/adverse-events/{id}/sae-report/"): Act.REPORT_SAE,
    ("GET", "/api/v1/dosing/today/"): R,
    ("GET", "/api/v1/eligibility-evaluations/"): R,
    ("GET", "/api/v1/eligibility-evaluations/{id}/"): R,
    ("POST", "/api/v1/eligibility/check/"): R,
    ("POST", "/api/v1/escalation/next/"): R,
    ("POST", "/api/v1/escalation/simulate/"): R,
    ("GET", "/api/v1/escalation/status/"): R,
    ("GET", "/api/v1/me/"): None,
    ("GET", "/api/v1/platelets/summary/"): R,
    ("GET", "/api/v1/screenings/"): R,
    ("GET", "/api/v1/screenings/{id}/"): R,
    ("POST", "/api/v1/screenings/{id}/sign/"): Act.SIGN_ELIGIBILITY,
    ("GET", "/api/v1/sites/"): R,
    ("GET", "/api/v1/sites/{code}/"): R,
    ("PATCH", "/api/v1/sites/{code}/"): Act.EDIT_SITE,
    ("GET", "/api/v1/src-decisions/"): R,
    ("POST", "/api/v1/src-decisions/"): Act.RECORD_SRC_DECISION,
    ("GET", "/api/v1/src-decisions/{id}/"): R,
    ("POST", "/api/v1/src-decisions/{id}/sign/"): Act.SIGN_SRC_DECISION,
    ("GET", "/api/v1/subjects/"): R,
    ("POST", "/api/v1/subjects/"): Act.REGISTER_SUBJECT,
    ("GET", "/api/v1/subjects/{id}/"): R,
    ("GET", "/api/v1/subjects/{id}/consent/"): R,
    ("POST", "/api/v1/subjects/{id}/consent/"): Act.RECORD_CONSENT,
    ("POST", "/api/v1/subjects/{id}/discontinuation/"): Act.DISCONTINUE_SUBJECT,
    ("POST", "/api/v1/subjects/{id}/enroll/"): Act.ENROLL,
    ("GET", "/api/v1/subjects/{id}/identity/"): Act.READ_IDENTITY,
    ("PUT", "/api/v1/subjects/{id}/identity/"): Act.RECORD_IDENTITY,
    ("POST", "/api/v1/subjects/{id}/screen-fail/"): Act.ENROLL,
    ("POST", "/api/v1/subjects/{subject_pk}/close-out/"): Act.CLOSE_OUT,
    ("GET", "/api/v1/subjects/{subject_pk}/dosing/"): R,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/assessment/"): Act.RECORD_ASSESSMENT,
    ("GET", "/api/v1/subjects/{subject_pk}/dosing/checklist/"): R,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/draws/"): Act.RECORD_DRAW,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/infusion/"): Act.RECORD_INFUSION,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/reconfirmation/"): Act.RECORD_RECONFIRMATION,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/reschedule/"): Act.SCHEDULE_INFUSION,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/schedule/"): Act.SCHEDULE_INFUSION,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/screen-failure/"): Act.ENROLL,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/slot-move/"): Act.ENROLL,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/corrections/reconfirmation/"): Act.CORRECT_DOSING_DAY,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/corrections/assessment/"): Act.CORRECT_DOSING_DAY,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/corrections/infusion/"): Act.CORRECT_DOSING_DAY,
    ("POST", "/api/v1/subjects/{subject_pk}/dosing/corrections/vital-signs/"): Act.CORRECT_DOSING_DAY,
    ("POST", "/api/v1/subjects/{subject_pk}/lab-results/"): Act.RECORD_AE,
    ("GET", "/api/v1/subjects/{subject_pk}/platelets/"): R,
    ("POST", "/api/v1/subjects/{subject_pk}/temperatures/"): Act.RECORD_AE,
    ("GET", "/api/v1/subjects/{subject_pk}/screenings/"): R,
    ("POST", "/api/v1/subjects/{subject_pk}/screenings/"): Act.RECORD_SCREENING,
    ("GET", "/api/v1/subjects/{subject_pk}/screenings/{id}/"): R,
    ("PUT", "/api/v1/subjects/{subject_pk}/screenings/{id}/"): Act.CORRECT_SCREENING,
    ("GET", "/api/v1/subjects/{subject_pk}/visits/"): R,
    ("POST", "/api/v1/subjects/{subject_pk}/visits/"): Act.CREATE_VISIT_SCHEDULE,
    ("GET", "/api/v1/visits/"): R,
    ("GET", "/api/v1/visits/{id}/"): R,
    ("POST", "/api/v1/visits/{id}/missed/"): Act.MARK_VISIT_MISSED,
    ("POST", "/api/v1/visits/{id}/record/"): Act.RECORD_VISIT,
    ("GET", "/api/v1/visits/overdue/"): R,
}
API_OUTSIDE_THE_TABLE = {("POST", "/api/v1/auth/token/")}  # login: anonymous by design (tested with the login)

USERNAMES = [username for username, _, _ in USERS]
OBJECT_KEYS = {  # model label -> key of the world's per-site object (absent: no such row, pages answer 404)
    "enrollment.subject": "subject",
    "enrollment.subjectidentity": "identity",
    "enrollment.consent": "consent",
    "enrollment.screening": "screening",
    "enrollment.eligibilityevaluation": "evaluation",
    "dosing.doseslot": "slot",
    "dosing.infusion": "infusion",
    "safety.visit": "visit",
    "safety.adverseevent": "ae",
    "safety.dltassessment": "dlt",
}
MISSING_PK = 987654
# The escalation state is trial-wide (PROTOCOL.md §4): its pages name every dosed subject by study number (a
# pseudonym, never an identifier); they are checked for identifiers like every other page.
TRIAL_WIDE_PAGES = ("/admin/dosing/doselevel/status/", "/api/v1/escalation/status/")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    """One logged-in admin client per user (sessions live in the module's transaction)."""
    with django_db_blocker.unblock():
        return _clients(world)


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


@cache
def admin_url_names() -> tuple[str, ...]:
    return tuple(sorted(set(_walk(admin.site.get_urls()))))


def _model_url(name: str):
    """(model label, kind) for a model admin URL name, else None."""
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix) and name[len(prefix) :] in MODEL_URL_KINDS:
            return model._meta.label_lower, name[len(prefix) :]
    return None


def _object_act_url(name: str) -> bool:
    return any(name == admin.site._registry[model].url_name("act") for model in _our_models())


def _our_models():
    return [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


def _object_acts() -> dict[str, tuple]:
    """'<label>.<name>' -> (model admin, act name, spec) for every act offered on a record's page."""
    return {
        f"{model._meta.label_lower}.{name}": (admin.site._registry[model], name, spec)
        for model in _our_models()
        for name, spec in admin.site._registry[model].object_acts.items()
    }


def _superuser_only_model_url(name: str) -> bool:
    return any(
        name.startswith(f"{model._meta.app_label}_{model._meta.model_name}_")
        for model in admin.site._registry
        if model._meta.app_label not in OUR_APPS
    )


def _permitted(world, username: str, act: Act | None) -> bool:
    return act is None or act in ROLES[world.roles[username]].acts


def _sees_site(world, username: str, key: str) -> bool:
    return _permitted(world, username, Act.READ_ALL_SITES) or world.user_site[username] == key


def _leaks(world, username: str, body: str, url: str = "") -> list[str]:
    """Identifiers (and other sites' study numbers) in a response body that this user must not see."""
    found, trial_wide = [], url in TRIAL_WIDE_PAGES
    for key in SITE_CODES:
        may_identity = _permitted(world, username, Act.READ_IDENTITY) and world.user_site[username] == key
        if not may_identity:
            found += [value for value in identity_of(key).values() if value in body]
        number = world.objects[key]["subject"].study_number
        if not trial_wide and not _sees_site(world, username, key) and re.search(rf"{number}\b", body):
            found.append(number)
    return found


def _users_for(world, key: str) -> list[str]:
    """Everyone for site A's objects; for site B's, the users of a site (cross-site roles answer the same for both)."""
    if key == "A":
        return USERNAMES
    return [username for username in USERNAMES if not _permitted(world, username, Act.READ_ALL_SITES)]


def _clients(world) -> dict[str, Client]:
    clients = {}
    for username in USERNAMES:
        clients[username] = Client()
        clients[username].force_login(world.users[username])
    return clients


def _request(client, method: str, url: str, **data):
    """One request whose writes are rolled back, so every user meets the same world."""
    with transaction.atomic():
        response = getattr(client, method.lower())(url, **data)
        transaction.set_rollback(True)
    return response


# --- completeness: every URL, action and operation has an entry ------------------------------------------------
def test_every_admin_url_has_an_entry_in_the_matrix():
    unknown = []
    for name in admin_url_names():
        model_url = _model_url(name)
        if (
            name in ADMIN_SITE_VIEWS
            or name in ADMIN_CUSTOM_VIEWS
            or name in ADMIN_RECORD_VIEWS
            or _object_act_url(name)
        ):
            continue  # object acts: one URL per model, each act checked below
        if model_url is None and _superuser_only_model_url(name):
            continue  # other apps' admins (users, groups, tokens): superusers only, changelist and add checked below
        if model_url is None or (model_url[0].split(".")[0] in OUR_APPS and model_url[0] not in ADMIN_MODEL_ACTS):
            unknown.append(name)
    assert unknown == []


def test_every_admin_action_has_an_entry_in_the_matrix():
    declared = {
        f"{model._meta.label_lower}.{name}"
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
        for name in (model_admin.actions or [])
    }
    assert declared == set(ADMIN_ACTIONS)


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = ("get", "post", "put", "patch", "delete")
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops if method in methods}


def test_every_api_operation_has_an_entry_in_the_matrix():
    assert _schema_operations() - API_OUTSIDE_THE_TABLE == set(API_OPERATIONS)


def test_the_readme_role_table_is_the_role_table():
    from pathlib import Path

    from enrollment.roles import role_table_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- role-table:start -->\n", 1)[1].split("\n<!-- role-table:end -->", 1)[0]
    assert block == role_table_markdown()


# --- admin pages ------------------------------------------------------------------------------------------
def _admin_cases():
    cases = []
    for name in admin_url_names():
        model_url = _model_url(name)
        if name in ADMIN_CUSTOM_VIEWS:
            cases.append(pytest.param(name, None, "A", id=name))
        elif name in ADMIN_RECORD_VIEWS:
            cases += [pytest.param(name, (ADMIN_RECORD_VIEWS[name], "change"), key, id=f"{name}-{key}") for key in "AB"]
        elif model_url and model_url[0] in ADMIN_MODEL_ACTS:
            keys = ("A", "B") if model_url[1] in ("change", "history", "simple_history") else ("A",)
            cases += [pytest.param(name, model_url, key, id=f"{name}-{key}") for key in keys]
        elif model_url and model_url[1] in ("changelist", "add"):
            cases.append(pytest.param(name, model_url, "A", id=name))  # superuser-only models: refused to all
    return cases


def _target(world, label: str, key: str):
    """(object pk or None, visible-to-site-key or None for trial-wide rows) for a model's page."""
    model = next(model for model in admin.site._registry if model._meta.label_lower == label)
    object_key = OBJECT_KEYS.get(label)
    if object_key:
        return world.objects[key][object_key], key
    if label == "enrollment.site":
        return world.sites[key], key
    if label == "enrollment.sitemembership":
        return world.users["coord_a" if key == "A" else "coord_b"].site_memberships.get(), key
    admin_site_path = admin.site._registry[model].site_path
    if admin_site_path is None:
        return model._default_manager.order_by("pk").first(), None
    return None, key


def _admin_expectation(world, username, name, model_url, key) -> tuple[str, int]:
    if model_url is None:
        return f"{reverse(f'admin:{name}')}", 200 if _permitted(world, username, ADMIN_CUSTOM_VIEWS[name]) else 403
    label, kind = model_url
    if label not in ADMIN_MODEL_ACTS:
        act = ADMIN_OTHER_APP_ACTS.get(label) if kind == "changelist" else None
        return reverse(f"admin:{name}"), 200 if act and _permitted(world, username, act) else 403
    view_act, add_act = ADMIN_MODEL_ACTS[label]
    if kind in ("changelist", "add"):
        act = view_act if kind == "changelist" else add_act
        return reverse(f"admin:{name}"), 200 if act and _permitted(world, username, act) else 403
    obj, site_key = _target(world, label, key)
    pk = obj.pk if obj else MISSING_PK
    args = (pk, obj.history.order_by("history_id").first().history_id if obj else MISSING_PK)
    url = reverse(f"admin:{name}", args=args if kind == "simple_history" else (pk,))
    if kind == "delete" or not _permitted(world, username, view_act):
        return url, 403
    visible = obj is not None and (site_key is None or _sees_site(world, username, site_key))
    return url, 200 if visible else 404


@pytest.mark.parametrize(("name", "model_url", "key"), _admin_cases())
def test_admin_page_answers_each_role_as_the_table_says(world, clients, db, name, model_url, key):
    wrong = []
    for username in _users_for(world, key):
        url, expected = _admin_expectation(world, username, name, model_url, key)
        response = _request(clients[username], "GET", url)
        body = response.content.decode(errors="replace")
        if response.status_code != expected or _leaks(world, username, body, url):
            wrong.append((username, url, response.status_code, expected, _leaks(world, username, body, url)))
    assert wrong == []


def _history_form_cases():
    return [
        pytest.param(name, model_url, id=name)
        for name in admin_url_names()
        if (model_url := _model_url(name)) and model_url[1] == "simple_history" and model_url[0] in ADMIN_MODEL_ACTS
    ]


@pytest.mark.parametrize(("name", "model_url"), _history_form_cases())
def test_admin_history_form_refuses_every_post(world, clients, db, name, model_url):
    obj, _ = _target(world, model_url[0], "A")
    versions = obj.history.order_by("history_id") if obj else None
    args = (obj.pk, versions.first().history_id) if obj else (MISSING_PK, MISSING_PK)
    before = versions.count() if obj else 0
    answers = set()
    for username in USERNAMES:
        data = {"reason_for_change": "revert", "_save": "Save"}
        answers.add(_request(clients[username], "POST", reverse(f"admin:{name}", args=args), data=data).status_code)
    assert (answers, versions.count() if obj else 0) == ({405}, before)


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
def test_admin_action_is_offered_to_the_roles_of_the_table(world, db, action):
    label, name = action.rsplit(".", 1)
    model_admin = next(ma for model, ma in admin.site._registry.items() if model._meta.label_lower == label)
    offered = {}
    for username in USERNAMES:
        request = RequestFactory().get("/admin/")
        request.user = world.users[username]
        offered[username] = name in model_admin.get_actions(request)
    assert offered == {username: _permitted(world, username, ADMIN_ACTIONS[action]) for username in USERNAMES}


def _history_rows() -> int:
    """Every history row of the service: a write anywhere adds one."""
    return sum(model.objects.count() for model in apps.get_models() if model.__name__.startswith("Historical"))


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
def test_an_admin_action_posted_by_a_role_without_it_runs_nothing(world, clients, db, action):
    # Posting the action anyway, with a reason as its form would: nothing is written, never a 500.
    label, name = action.rsplit(".", 1)
    model = next(model for model in admin.site._registry if model._meta.label_lower == label)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    answers = {}
    for username in USERNAMES:
        if _permitted(world, username, ADMIN_ACTIONS[action]):
            continue
        with transaction.atomic():
            before, row = _history_rows(), model.objects.order_by("pk").first()
            data = {"action": name, "_selected_action": [row.pk if row else MISSING_PK], "apply": "1", "reason": "x"}
            response = clients[username].post(url, data)
            answers[username] = (response.status_code in (200, 302, 403), _history_rows() - before)
            transaction.set_rollback(True)
    assert answers == dict.fromkeys(answers, (True, 0))


# --- clinical acts on a record's page -------------------------------------------------------------------
def test_every_object_act_has_an_entry_in_the_matrix():
    declared = {key: spec.act for key, (_, _, spec) in _object_acts().items()}
    assert declared == ADMIN_OBJECT_ACTS


def _object_act_expectation(world, username, key, model_admin, spec, obj) -> int:
    if not _permitted(world, username, spec.act):
        return 403
    if obj is None or not _sees_site(world, username, key):
        return 404
    if world.user_site[username] != key:
        return 403  # a cross-site role sees the record but does not act at another site
    return 200 if spec.available(obj) else 302


@pytest.mark.parametrize("act", sorted(ADMIN_OBJECT_ACTS))
@pytest.mark.parametrize("key", ["A", "B"])
def test_object_act_page_answers_each_role_as_the_table_says(world, clients, db, act, key):
    model_admin, name, spec = _object_acts()[act]
    obj, _ = _target(world, model_admin.model._meta.label_lower, key)
    url = reverse(f"admin:{model_admin.url_name('act')}", args=[obj.pk if obj else MISSING_PK, name])
    wrong = []
    for username in _users_for(world, key):
        response = _request(clients[username], "GET", url)
        expected = _object_act_expectation(world, username, key, model_admin, spec, obj)
        if response.status_code != expected or _leaks(world, username, response.content.decode(), url):
            wrong.append((username, response.status_code, expected))
    assert wrong == []


@pytest.mark.parametrize("act", sorted(ADMIN_OBJECT_ACTS))
def test_an_object_act_posted_by_a_role_without_it_writes_nothing(world, clients, db, act):
    model_admin, name, spec = _object_acts()[act]
    obj, _ = _target(world, model_admin.model._meta.label_lower, "A")
    url = reverse(f"admin:{model_admin.url_name('act')}", args=[obj.pk if obj else MISSING_PK, name])
    answers = {}
    for username in USERNAMES:
        if _permitted(world, username, spec.act) and world.user_site[username] == "A":
            continue
        with transaction.atomic():
            before = _history_rows()
            response = clients[username].post(url, {"reason": "x", "password": "x"})
            answers[username] = (response.status_code, _history_rows() - before)
            transaction.set_rollback(True)
    assert {user: written for user, (_, written) in answers.items()} == dict.fromkeys(answers, 0)
    assert {status for status, _ in answers.values()} <= {403, 404}


# --- API operations ---------------------------------------------------------------------------------------
def _api_url(world, path: str, key: str) -> str:
    objects = world.objects[key]
    by_prefix = {
        "/api/v1/adverse-events/": objects["ae"].pk,
        "/api/v1/eligibility-evaluations/": objects["evaluation"].pk,
        "/api/v1/screenings/": objects["screening"].pk,
        "/api/v1/src-decisions/": MISSING_PK,
        "/api/v1/subjects/{subject_pk}/screenings/": objects["screening"].pk,
        "/api/v1/subjects/": objects["subject"].pk,
        "/api/v1/visits/": objects["visit"].pk,
    }
    url = path.replace("{code}", SITE_CODES[key]).replace("{subject_pk}", str(objects["subject"].pk))
    if "{id}" in path:
        prefix = next(prefix for prefix in by_prefix if path.startswith(prefix))
        url = url.replace("{id}", str(by_prefix[prefix]))
    return url


def _api_cases():
    return [
        pytest.param(method, path, key, id=f"{method} {path} {key}")
        for method, path in sorted(API_OPERATIONS)
        for key in (("A", "B") if "{" in path else ("A",))
    ]


@pytest.mark.parametrize(("method", "path", "key"), _api_cases())
def test_api_operation_answers_each_role_as_the_table_says(world, db, method, path, key):
    act, url, wrong = API_OPERATIONS[(method, path)], _api_url(world, path, key), []
    for username in _users_for(world, key):
        client = APIClient()
        client.force_authenticate(world.users[username])
        response = _request(client, method, url, data={}, format="json")
        status, body = response.status_code, response.content.decode(errors="replace")
        if not _permitted(world, username, act):
            ok = status == 403
        elif "{" in path and not _sees_site(world, username, key):
            ok = status in (400, 404)  # another site's object: not found (or the empty body refused first)
        else:
            ok = status not in (403, 405) and status < 500
        if not ok or _leaks(world, username, body, url):
            wrong.append((username, method, url, status, _leaks(world, username, body, url)))
    assert wrong == []
