"""Project system checks: a published or weak SECRET_KEY (deploy), and a database copy of the protocol that
differs from seeds/ (`manage.py check --database default`, and every `migrate`)."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from ctit_trial.config import ConfigFileError, criteria_seed, ctcae_seed, protocol_seed
from ctit_trial.config.reader import shown
from ctit_trial.secret_key import MIN_LENGTH, secret_key_weakness

SEED_FIX = (
    "Run `python manage.py seed` to load seeds/ into the database (each change is recorded in the audit trail), "
    "or restore seeds/ to the configuration the trial runs under."
)
SHOWN_DIFFERENCES = 12


@register(Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs) -> list[Error]:
    """ctit_trial.E001: the secret key signs sessions, tokens and signatures; a known or short one forges them."""
    weakness = secret_key_weakness(settings.SECRET_KEY)
    if weakness is None:
        return []
    hint = f"Set DJANGO_SECRET_KEY to at least {MIN_LENGTH} random characters (never the development key)."
    return [Error(f"{weakness}: unfit for production.", hint=hint, id="ctit_trial.E001")]


@register(Tags.database)
def protocol_matches_seeds_check(app_configs, databases=None, **kwargs) -> list[Error | Warning]:
    """ctit_trial.E002 (seeds/ or the database copy is invalid), W002 (not seeded), W003 (they differ)."""
    if not databases:
        return []
    try:
        differing = protocol_seed_differences()
    except ConfigFileError as error:
        return [Error(str(error), hint="Correct the value it names.", id="ctit_trial.E002")]
    except DatabaseError:
        return []  # not migrated yet: `migrate` runs this check before it creates the tables
    if differing is None:
        return [Warning("The protocol is not seeded.", hint=SEED_FIX, id="ctit_trial.W002")]
    if not differing:
        return []
    more = len(differing) - SHOWN_DIFFERENCES
    listed = "; ".join(differing[:SHOWN_DIFFERENCES]) + (f"; and {more} more" if more > 0 else "")
    return [
        Warning(
            f"The database copy of the protocol differs from seeds/: {listed}.", hint=SEED_FIX, id="ctit_trial.W003"
        )
    ]


def protocol_seed_differences() -> list[str] | None:
    """Every value where the database differs from seeds/, as "<path> (database …, seeds …)"; None if not seeded."""
    from dosing.models import DoseLevel
    from dosing.services.levels import dose_level_rows
    from enrollment.models import Criterion, Protocol
    from enrollment.services.trial import criterion_rows, protocol_record_values
    from safety.models import CtcaeTerm, VisitDefinition
    from safety.services.reference import ctcae_term_rows, visit_definition_rows

    seed = protocol_seed()
    protocol = Protocol.objects.filter(code=seed.trial.code).first()
    if protocol is None:
        return None
    protocol.config  # noqa: B018 — the database copy must pass the typed model too (ConfigFileError otherwise)
    stored = {field: getattr(protocol, field) for field in protocol_record_values(seed)}
    found = _mapping_differences("protocol", stored, protocol_record_values(seed))
    found += _row_differences("dose_levels", DoseLevel, dose_level_rows(protocol, seed.dose_levels), "level")
    found += _row_differences("visits", VisitDefinition, visit_definition_rows(protocol, seed.visits), "code")
    found += _row_differences("criteria", Criterion, criterion_rows(protocol, criteria_seed()), "code")
    catalogue = ctcae_seed()
    found += _row_differences("ctcae", CtcaeTerm, ctcae_term_rows(catalogue), "code")
    return found


def _row_differences(label: str, model, rows: list[tuple[dict, dict]], key: str) -> list[str]:
    """Differences between seeded rows and the database rows of the same scope (missing, extra, changed fields)."""
    scope = {name: value for name, value in rows[0][0].items() if name != key}
    stored = {getattr(row, key): row for row in model.objects.filter(**scope)}
    found = []
    for lookup, values in rows:
        row = stored.pop(lookup[key], None)
        where = f"{label}.{lookup[key]}"
        if row is None:
            found.append(f"{where} (missing in the database)")
        else:
            found += _mapping_differences(where, {field: getattr(row, field) for field in values}, values)
    return found + [f"{label}.{extra} (in the database, not in seeds/)" for extra in stored]


_ABSENT = object()


def _mapping_differences(path: str, stored: Any, seeded: Any) -> list[str]:
    if isinstance(stored, Mapping) and isinstance(seeded, Mapping):
        keys = sorted({*stored, *seeded}, key=str)
        return [
            difference
            for key in keys
            for difference in _mapping_differences(f"{path}.{key}", stored.get(key, _ABSENT), seeded.get(key, _ABSENT))
        ]
    if stored == seeded:
        return []
    return [f"{path} (database {_shown(stored)}, seeds {_shown(seeded)})"]


def _shown(value: Any) -> str:
    return "absent" if value is _ABSENT else shown(value)
