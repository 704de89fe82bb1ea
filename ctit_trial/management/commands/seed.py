"""`manage.py seed [--demo]`: load the protocol configuration (idempotent), and optionally demo data."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ctit_trial.audit import system_actor
from ctit_trial.config import criteria_seed, ctcae_seed, demo_seed, protocol_seed
from ctit_trial.demo import demo_trial_build
from dosing.services import dose_levels_load
from enrollment import services as enrollment_services
from enrollment.models import Site
from safety.services import ctcae_terms_load, visit_definitions_load


class Command(BaseCommand):
    help = "Load the protocol configuration from seeds/ (idempotent); --demo adds demo sites, users and subjects."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Also load seeds/demo.yaml and build the demo trial at BJ01 (development only).",
        )
        parser.add_argument(
            "--list-demo-logins", action="store_true", help="Print the demo logins of seeds/demo.yaml and exit."
        )

    def handle(self, *args, demo: bool, list_demo_logins: bool, **options):
        if list_demo_logins:
            self.stdout.write(demo_logins_text(demo_seed().data))
            return
        if demo and not settings.DEBUG:  # no flag overrides this: the demo passwords are published
            raise CommandError("Refusing --demo with DJANGO_DEBUG off: demo logins have published passwords.")
        steps = [("roles and permissions", self.load_roles), ("protocol configuration", self.load_protocol)]
        if demo:
            steps.append(("demo data", self.load_demo))
        for number, (label, step) in enumerate(steps, start=1):
            summary = step()
            self.log(f"seed {number}/{len(steps)} {label}: {summary}")

    def log(self, message: str) -> None:
        if self.verbosity:
            self.stdout.write(message)

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)

    def load_roles(self) -> str:
        granted = enrollment_services.roles_sync()
        return ", ".join(f"{role} ({count} permissions)" for role, count in granted.items())

    def load_protocol(self) -> str:
        actor, seed = system_actor(), protocol_seed()
        protocol = enrollment_services.protocol_load(actor=actor, seed=seed)
        criteria = enrollment_services.criteria_load(actor=actor, protocol=protocol, catalogue=criteria_seed())
        levels = dose_levels_load(actor=actor, protocol=protocol, levels=seed.dose_levels)
        visits = visit_definitions_load(actor=actor, protocol=protocol, visits=seed.visits)
        terms = ctcae_terms_load(actor=actor, catalogue=ctcae_seed())
        return f"{protocol}; rows changed: criteria {criteria}, dose levels {levels}, visits {visits}, CTCAE {terms}"

    def load_demo(self) -> str:
        demo, actor = demo_seed().data, system_actor()
        for item in demo["sites"]:
            if not Site.objects.filter(code=item["code"]).exists():
                enrollment_services.site_create(actor=actor, **item)
        self.ensure_superuser(demo["superuser"])
        for item in demo["users"]:
            enrollment_services.staff_user_ensure(
                username=item["username"],
                role_key=item["role"],
                site_codes=item["sites"],
                password=demo["password"],
                email=f"{item['username']}@ctit-trial.local",
                first_name=item["first_name"],
                last_name=item["last_name"],
            )
        for code, wanted in demo["subjects"].items():
            site = Site.objects.get(code=code)
            for _ in range(wanted - site.subjects.count()):
                enrollment_services.subject_register(actor=get_user_model().objects.get(username="admin"), site=site)
        story = demo_trial_build(password=demo["password"])
        return f"{len(demo['sites'])} sites, {len(demo['users']) + 1} users, subjects {demo['subjects']}; {story}"

    def ensure_superuser(self, spec: dict) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=spec["username"]).exists():
            user_model.objects.create_superuser(spec["username"], spec["email"], spec["password"])


def demo_logins_text(demo: dict) -> str:
    """The demo logins as an indented table (printed by `make run`)."""
    superuser = demo["superuser"]
    lines = ["  Demo logins (seeds/demo.yaml; development only):"]
    lines.append(f"    {superuser['username']:<14} / {superuser['password']:<18} superuser")
    for user in demo["users"]:
        where = ", ".join(user["sites"]) or "all sites, read-only"
        lines.append(f"    {user['username']:<14} / {demo['password']:<18} {user['role']} ({where})")
    return "\n".join(lines)
