"""The admin as the study team's workspace: a subject's casebook and today's work (read-only pages)."""
