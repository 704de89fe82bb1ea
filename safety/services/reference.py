"""Reference data of the safety app: the protocol's visit schedule and the CTCAE catalogue, loaded from seeds/."""

import json
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.audit import upsert_each
from ctit_trial.config.protocol import VisitConfig
from ctit_trial.config.reference import CtcaeSeed
from enrollment.models import Protocol
from safety.models import CtcaeTerm, VisitDefinition


def visit_definition_rows(protocol: Protocol, visits: tuple[VisitConfig, ...]) -> list[tuple[dict, dict]]:
    """(lookup, values) of each VisitDefinition row the seed sets."""
    return [
        (
            {"protocol": protocol, "code": visit.code},
            {
                "label": visit.label,
                "target_day": visit.target_day,
                "window_before": visit.window_before,
                "window_after": visit.window_after,
                "content": visit.content,
            },
        )
        for visit in visits
    ]


@transaction.atomic
def visit_definitions_load(*, actor: AbstractBaseUser, protocol: Protocol, visits: tuple[VisitConfig, ...]) -> int:
    """Create or update the protocol's visit schedule; returns rows changed."""
    rows = visit_definition_rows(protocol, visits)
    return upsert_each(VisitDefinition, rows, actor=actor, reason="Loaded from seeds/protocol.yaml")


def as_stored_json(value: Mapping[str, Any]) -> Any:
    """A mapping as a JSONField gives it back (YAML's `1:` grade keys become "1"), so equal data compares equal."""
    return json.loads(json.dumps(value))


def ctcae_term_rows(catalogue: CtcaeSeed) -> list[tuple[dict, dict]]:
    """(lookup, values) of each CtcaeTerm row the seed sets."""
    return [
        (
            {"ctcae_version": catalogue.ctcae_version, "code": code},
            {
                "term": item["name"],
                "meddra_code": item["meddra_code"],
                "soc": item["soc"],
                "category": CtcaeTerm.Category.LAB if "lab" in item else CtcaeTerm.Category.CLINICAL,
                "specification": as_stored_json(item),
            },
        )
        for code, item in catalogue.terms.items()
    ]


@transaction.atomic
def ctcae_terms_load(*, actor: AbstractBaseUser, catalogue: CtcaeSeed) -> int:
    """Create or update the CTCAE catalogue (seeds/ctcae_v5.yaml), writing only what differs; returns rows changed."""
    reason = f"Loaded CTCAE v{catalogue.ctcae_version} catalogue from seeds/"
    return upsert_each(CtcaeTerm, ctcae_term_rows(catalogue), actor=actor, reason=reason)
