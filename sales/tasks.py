from celery import shared_task

from sales.services.campaign_mail import campaign_mailing_send_batch
from sales.services.campaigns import campaign_members_add_from_segment_run
from sales.services.deals import deals_notify_stale


@shared_task(name="sales.deals_notify_stale_task")
def deals_notify_stale_task() -> int:
    return deals_notify_stale()


@shared_task(name="sales.campaign_members_add_from_segment_task", acks_late=True)
def campaign_members_add_from_segment_task(campaign_id: int, actor_id: int) -> int:
    """Add the campaign's segment's customers as members; safe to run again (adds no one twice)."""
    return campaign_members_add_from_segment_run(campaign_id=campaign_id, actor_id=actor_id)


@shared_task(name="sales.campaign_mailing_send_batch_task", acks_late=True)
def campaign_mailing_send_batch_task(mailing_id: int) -> bool:
    """Send a campaign mailing's next batch and queue the one after; safe to run again (mails
    nobody twice)."""
    return campaign_mailing_send_batch(mailing_id=mailing_id)
