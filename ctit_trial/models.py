"""History of Django's own users and groups (kept in this app: django.contrib.auth has no history of its own)."""

import simple_history
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from ctit_trial.audit import AuditedHistory

# The password hash and the login time stay out of history: a hash must not outlive a password change in an
# append-only table, and a login is not a change to the account (axes and the session log record logins).
simple_history.register(
    get_user_model(),
    app="ctit_trial",
    records_class=AuditedHistory,
    excluded_fields=["password", "last_login"],
    m2m_fields=["groups", "user_permissions"],
)
simple_history.register(Group, app="ctit_trial", records_class=AuditedHistory, m2m_fields=["permissions"])
