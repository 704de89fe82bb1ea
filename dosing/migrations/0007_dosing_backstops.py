"""The database backs the dosing invariants (issue 12, defect 10), on PostgreSQL.

- Capacity: no more claimed-or-dosed slots at a dose level than its `slot_ceiling`, which `slot_claim` sets under
  the level's row lock. A plain AFTER row trigger: no legal write ever exceeds the ceiling, not even for a moment.
  On a write that can raise the count (an insert, a slot moved to another level, a released slot taken again) the
  trigger locks the level row itself, so writes that bypass the service are serialised as the service's are.
- An infusion is at its slot's dose level and of its slot's subject, and an infused slot keeps both (plain AFTER
  triggers: the slot always exists before its infusion).
- "Dosed" only with an infusion: a dosed slot, and a dosed or completed subject, has an infusion. The infusion
  service writes the infusion and then moves plan, slot and subject, so these are constraint triggers DEFERRABLE
  INITIALLY DEFERRED: checked at commit. Deleting or re-pointing an infusion is checked the same way.
Every refusal raises SQLSTATE 23514 (check_violation), which Django raises as `IntegrityError`.
SQLite (the default `make run` database) has no such triggers: nothing is installed there, and the services'
own checks protect it.
"""

from django.db import migrations, models

REFUSE = "USING ERRCODE = 'check_violation'"

CREATE_SQL = f"""
CREATE FUNCTION dosing_slot_within_ceiling() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ceiling integer;
    taken integer;
BEGIN
    IF TG_OP = 'INSERT' OR OLD.status = 'released' OR OLD.dose_level_id <> NEW.dose_level_id THEN
        SELECT slot_ceiling INTO ceiling FROM dosing_doselevel WHERE id = NEW.dose_level_id FOR UPDATE;
    ELSE
        SELECT slot_ceiling INTO ceiling FROM dosing_doselevel WHERE id = NEW.dose_level_id;
    END IF;
    SELECT count(*) INTO taken FROM dosing_doseslot
        WHERE dose_level_id = NEW.dose_level_id AND status IN ('claimed', 'dosed');
    IF taken > ceiling THEN
        RAISE EXCEPTION 'dose level capacity exceeded: % claimed-or-dosed slots at dose level id % (slot_ceiling %)',
            taken, NEW.dose_level_id, ceiling {REFUSE};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER dosing_slot_within_ceiling_insert AFTER INSERT ON dosing_doseslot
    FOR EACH ROW WHEN (NEW.status IN ('claimed', 'dosed')) EXECUTE FUNCTION dosing_slot_within_ceiling();
CREATE TRIGGER dosing_slot_within_ceiling_update AFTER UPDATE OF status, dose_level_id ON dosing_doseslot
    FOR EACH ROW WHEN (NEW.status IN ('claimed', 'dosed')
        AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.dose_level_id IS DISTINCT FROM NEW.dose_level_id))
    EXECUTE FUNCTION dosing_slot_within_ceiling();

CREATE FUNCTION dosing_infusion_matches_slot() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slot_level bigint;
    slot_subject bigint;
BEGIN
    SELECT dose_level_id, subject_id INTO slot_level, slot_subject FROM dosing_doseslot WHERE id = NEW.slot_id;
    IF NEW.dose_level_id IS DISTINCT FROM slot_level THEN
        RAISE EXCEPTION 'infusion dose level differs from its slot''s: dose level id % for slot % at dose level id %',
            NEW.dose_level_id, NEW.slot_id, slot_level {REFUSE};
    END IF;
    IF NEW.subject_id IS DISTINCT FROM slot_subject THEN
        RAISE EXCEPTION 'infusion subject differs from its slot''s: subject id % for slot % of subject id %',
            NEW.subject_id, NEW.slot_id, slot_subject {REFUSE};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER dosing_infusion_matches_slot AFTER INSERT OR UPDATE OF slot_id, dose_level_id, subject_id
    ON dosing_infusion FOR EACH ROW EXECUTE FUNCTION dosing_infusion_matches_slot();

CREATE FUNCTION dosing_infused_slot_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dosing_infusion WHERE slot_id = NEW.id) THEN
        RAISE EXCEPTION 'infused slot keeps its dose level and subject: slot % has an infusion', NEW.id {REFUSE};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER dosing_infused_slot_is_fixed AFTER UPDATE OF dose_level_id, subject_id ON dosing_doseslot
    FOR EACH ROW WHEN (OLD.dose_level_id IS DISTINCT FROM NEW.dose_level_id
        OR OLD.subject_id IS DISTINCT FROM NEW.subject_id)
    EXECUTE FUNCTION dosing_infused_slot_is_fixed();

CREATE FUNCTION dosing_refuse_dosed_without_infusion(slot bigint, subject bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dosing_doseslot s WHERE s.id = slot AND s.status = 'dosed'
               AND NOT EXISTS (SELECT 1 FROM dosing_infusion i WHERE i.slot_id = s.id)) THEN
        RAISE EXCEPTION 'dosed slot without an infusion: slot % is dosed and no infusion has it', slot {REFUSE};
    END IF;
    IF EXISTS (SELECT 1 FROM enrollment_subject s WHERE s.id = subject AND s.status IN ('dosed', 'completed')
               AND NOT EXISTS (SELECT 1 FROM dosing_infusion i WHERE i.subject_id = s.id)) THEN
        RAISE EXCEPTION 'dosed subject without an infusion: subject % is dosed or completed and has no infusion',
            subject {REFUSE};
    END IF;
END $$;
CREATE FUNCTION dosing_dosed_slot_has_infusion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dosing_refuse_dosed_without_infusion(NEW.id, NULL);
    RETURN NULL;
END $$;
CREATE FUNCTION dosing_dosed_subject_has_infusion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dosing_refuse_dosed_without_infusion(NULL, NEW.id);
    RETURN NULL;
END $$;
CREATE FUNCTION dosing_infusion_kept_while_dosed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dosing_refuse_dosed_without_infusion(OLD.slot_id, OLD.subject_id);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER dosing_dosed_slot_has_infusion AFTER INSERT OR UPDATE OF status ON dosing_doseslot
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.status = 'dosed')
    EXECUTE FUNCTION dosing_dosed_slot_has_infusion();
CREATE CONSTRAINT TRIGGER dosing_dosed_subject_has_infusion AFTER INSERT OR UPDATE OF status ON enrollment_subject
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.status IN ('dosed', 'completed'))
    EXECUTE FUNCTION dosing_dosed_subject_has_infusion();
CREATE CONSTRAINT TRIGGER dosing_infusion_kept_while_dosed AFTER DELETE OR UPDATE OF slot_id, subject_id
    ON dosing_infusion DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION dosing_infusion_kept_while_dosed();
"""  # noqa: S608 (constants only, no input)

DROP_SQL = """
DROP TRIGGER IF EXISTS dosing_infusion_kept_while_dosed ON dosing_infusion;
DROP TRIGGER IF EXISTS dosing_dosed_subject_has_infusion ON enrollment_subject;
DROP TRIGGER IF EXISTS dosing_dosed_slot_has_infusion ON dosing_doseslot;
DROP FUNCTION IF EXISTS dosing_infusion_kept_while_dosed();
DROP FUNCTION IF EXISTS dosing_dosed_subject_has_infusion();
DROP FUNCTION IF EXISTS dosing_dosed_slot_has_infusion();
DROP FUNCTION IF EXISTS dosing_refuse_dosed_without_infusion(bigint, bigint);
DROP TRIGGER IF EXISTS dosing_infused_slot_is_fixed ON dosing_doseslot;
DROP FUNCTION IF EXISTS dosing_infused_slot_is_fixed();
DROP TRIGGER IF EXISTS dosing_infusion_matches_slot ON dosing_infusion;
DROP FUNCTION IF EXISTS dosing_infusion_matches_slot();
DROP TRIGGER IF EXISTS dosing_slot_within_ceiling_update ON dosing_doseslot;
DROP TRIGGER IF EXISTS dosing_slot_within_ceiling_insert ON dosing_doseslot;
DROP FUNCTION IF EXISTS dosing_slot_within_ceiling();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite (make run) skips: the services protect it
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the %s of RAISE stay PL/pgSQL's

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("dosing", "0006_infusion_timing_deviation"),
        ("enrollment", "0003_history_user_protected_signature_mac"),
    ]

    operations = [
        migrations.AddField(
            model_name="doselevel",
            name="slot_ceiling",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="The number of claimed-or-dosed slots the engine allowed at the level at the last claim "
                "(the database refuses more; dosing/migrations/0007).",
            ),
        ),
        migrations.AddField(
            model_name="historicaldoselevel",
            name="slot_ceiling",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="The number of claimed-or-dosed slots the engine allowed at the level at the last claim "
                "(the database refuses more; dosing/migrations/0007).",
            ),
        ),
        migrations.RunPython(_on_postgresql(CREATE_SQL), _on_postgresql(DROP_SQL)),
    ]
