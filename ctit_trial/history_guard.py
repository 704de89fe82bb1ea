"""Append-only history on PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE on every history table.

Installed after every `migrate` (post_migrate), so history tables added later are covered too. Sessions whose
role is a member of the maintenance role (superusers are members of every role) pass: CI's test-database flush
and a database administrator's deliberate repair. The application's role never is (docs/adr/0010).
SQLite (make run) has no roles: nothing is installed there and history is protected by the application only.
"""

import logging

from django.apps import apps
from django.db import connections

logger = logging.getLogger(__name__)

MAINTENANCE_ROLE = "ctit_history_maintenance"
TRIGGER = "ctit_history_append_only"

CREATE_ROLE_SQL = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{MAINTENANCE_ROLE}') THEN
        CREATE ROLE {MAINTENANCE_ROLE} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE WARNING 'cannot create role {MAINTENANCE_ROLE}: only superusers may change history tables';
END $$;
"""  # noqa: S608 (constants only, no input)

FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{MAINTENANCE_ROLE}')
           AND pg_has_role(current_user, '{MAINTENANCE_ROLE}', 'MEMBER')) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'History is append-only: % on % is refused for role %.', TG_OP, TG_TABLE_NAME, current_user
        USING ERRCODE = 'insufficient_privilege', HINT = 'Record a correction as a new change instead.';
END $$;
"""  # noqa: S608 (constants only, no input)

TRIGGER_SQL = (
    'CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE ON "{table}" '
    "FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
)


def history_tables() -> list[str]:
    """The tables of every simple-history model, m2m history included (they all carry `instance_type`)."""
    return sorted({model._meta.db_table for model in apps.get_models() if hasattr(model, "instance_type")})


def install_append_only_triggers(*, using: str = "default", **kwargs) -> int:
    """Create (or replace) the role, the function and one trigger per existing history table; returns the count."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    existing = set(connection.introspection.table_names())
    tables = [table for table in history_tables() if table in existing]
    with connection.cursor() as cursor:
        cursor.execute(CREATE_ROLE_SQL)
        cursor.execute(FUNCTION_SQL)
        for table in tables:
            cursor.execute(TRIGGER_SQL.format(trigger=TRIGGER, table=table))
    logger.info("Append-only trigger installed on %d history tables", len(tables))
    return len(tables)
