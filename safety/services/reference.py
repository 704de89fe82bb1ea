"""Reference data of the safety app: the protocol's visit schedule and the CTCAE catalogue, loaded from seeds/."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.audit import upsert_audited
from enrollment.models import Protocol
from safety.models import CtcaeTerm, VisitDefinition


@transaction.atomic
def visit_definitions_load(*, actor: AbstractBaseUser, protocol: Protocol, visits: list[dict]) -> int:
    """Create or update the protocol's visit schedule; returns rows changed."""
    changed = 0
    for item in visits:
        values = {key: item[key] for key in ("label", "target_day", "window_before", "window_after")}
        values["content"] = item.get("content", "")
        _, did_change = upsert_audited(
            VisitDefinition,
            lookup={"protocol": protocol, "code": item["code"]},
            values=values,
            actor=actor,
            reason="Loaded from seeds/protocol.yaml",
        )
        changed += did_change
    return changed


@transaction.atomic
def ctcae_terms_load(*, actor: AbstractBaseUser, catalogue: dict) -> int:
    """Create or update the CTCAE catalogue (seeds/ctcae_v5.yaml); returns rows changed."""
    changed, version = 0, str(catalogue["ctcae_version"])
    for code, item in catalogue["terms"].items():
        values = {
            "term": item["name"],
            "meddra_code": str(item["meddra_code"]),
            "soc": item["soc"],
            "category": CtcaeTerm.Category.LAB if "lab" in item else CtcaeTerm.Category.CLINICAL,
            "specification": item,
        }
        _, did_change = upsert_audited(
            CtcaeTerm,
            lookup={"ctcae_version": version, "code": code},
            values=values,
            actor=actor,
            reason=f"Loaded CTCAE v{version} catalogue from seeds/",
        )
        changed += did_change
    return changed
