"""What operators see of the running service: JSON logs with request context, Prometheus metrics, error reports.

docs/adr/0018-observability.md says why each piece is what it is.
"""
