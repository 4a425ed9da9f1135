from celery import shared_task

from service.services.escalation import tickets_check_sla


@shared_task(name="service.tickets_check_sla_task")
def tickets_check_sla_task() -> dict[str, int]:
    """Warn of SLA targets coming due and escalate missed ones; safe to run twice."""
    return tickets_check_sla()
