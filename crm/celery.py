"""The Celery app and its beat schedule, in code.

Without REDIS_URL the settings make every task run eagerly in the calling process, so the
embedded default needs no broker and no worker.
"""

import os

from celery import Celery
from celery.schedules import crontab

from crm import env

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "automation-rules-tick": {
        "task": "automation.rules_tick_task",
        "schedule": crontab(minute="*"),
    },
    "clear-expired-sessions": {
        "task": "accounts.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=17),
    },
    "purge-idle-user-sessions": {
        "task": "accounts.user_sessions_purge_task",
        "schedule": crontab(minute="*/15"),
    },
    "notify-stale-deals": {
        "task": "sales.deals_notify_stale_task",
        "schedule": crontab(minute=7),
    },
    "check-ticket-slas": {
        "task": "service.tickets_check_sla_task",
        "schedule": crontab(minute="*/5"),
    },
    "remind-tasks": {
        "task": "collaboration.tasks_remind_task",
        "schedule": crontab(minute="*/5"),
    },
    "send-notification-digests": {
        "task": "collaboration.notifications_send_digests_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "remind-events": {
        "task": "collaboration.events_send_reminders_task",
        "schedule": crontab(minute="*/5"),
    },
    "retrain-models": {
        "task": "analytics.models_retrain_nightly_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "build-recommendations": {
        "task": "analytics.recommendations_build_nightly_task",
        "schedule": crontab(hour=3, minute=40),
    },
    "build-social-graph": {
        "task": "analytics.graph_build_nightly_task",
        "schedule": crontab(hour=1, minute=40),
    },
    "refresh-recent-order-totals": {
        "task": "analytics.order_daily_totals_refresh_recent_task",
        "schedule": crontab(minute="*/10"),
    },
    "refresh-customer-values": {
        "task": "analytics.customer_values_refresh_task",
        "schedule": crontab(hour=2, minute=50),
    },
    "refresh-all-order-totals": {
        "task": "analytics.order_daily_totals_refresh_task",
        "schedule": crontab(hour=2, minute=10),
    },
    "log-held-meetings": {
        "task": "collaboration.events_log_meetings_task",
        "schedule": crontab(minute="*/5"),
    },
    "send-due-emails": {
        "task": "mail.emails_queue_due_task",
        "schedule": crontab(minute="*/5"),
    },
    "poll-mailboxes": {
        "task": "mail.mailboxes_poll_task",
        "schedule": crontab(minute=f"*/{env.env_int('CRM_EMAIL_POLL_MINUTES', 1)}"),
    },
    "send-due-webhook-deliveries": {
        "task": "webhooks.webhook_deliveries_due_task",
        "schedule": crontab(minute="*"),
    },
    "purge-webhook-deliveries": {
        "task": "webhooks.webhook_deliveries_purge_task",
        "schedule": crontab(hour=4, minute=10),
    },
    "purge-idempotency-keys": {
        "task": "api.idempotency_keys_purge_task",
        "schedule": crontab(minute=23),
    },
}
