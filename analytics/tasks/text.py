from celery import shared_task

from analytics.services.text import ticket_text_predict


@shared_task(name="analytics.ticket_text_predict_task", acks_late=True)
def ticket_text_predict_task(ticket_id: int) -> list[str]:
    return ticket_text_predict(ticket_id=ticket_id)
