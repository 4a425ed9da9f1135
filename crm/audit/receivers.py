from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from crm.audit.context import current_request, request_origin


@receiver(pre_create_historical_record)
def historical_record_origin_fill(sender, history_instance, **kwargs) -> None:
    origin = request_origin(current_request())
    history_instance.history_ip_address = origin.ip_address
    history_instance.history_user_agent = origin.user_agent
    history_instance.history_api_token = origin.api_token
