from celery import shared_task

from automation.services.runs import rule_run_execute, rules_run_due, runs_queue_due


@shared_task(name="automation.rule_run_task", acks_late=True)
def rule_run_task(run_id: int) -> str | None:
    return rule_run_execute(run_id=run_id)


@shared_task(name="automation.rules_tick_task")
def rules_tick_task() -> dict[str, int]:
    """Every minute: the date and schedule rules that are due, and runs to try again."""
    return {"created": rules_run_due(), "requeued": runs_queue_due()}
