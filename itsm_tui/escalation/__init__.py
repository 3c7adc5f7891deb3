"""SLA escalation: the sweep and the APScheduler jobs that run it."""
