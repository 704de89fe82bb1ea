from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety follow-up"

    def ready(self):
        from dosing import ports
        from safety.selectors import dlt_facts

        ports.provide_dlt_facts(dlt_facts)  # the escalation engine reads DLT facts through dosing's port
