from django.contrib.admin.apps import AdminConfig


class TrialAdminConfig(AdminConfig):
    """django.contrib.admin whose default site asks for the second factor."""

    default_site = "ctit_trial.security.admin_site.TrialAdminSite"
