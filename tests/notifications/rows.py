"""One outbox row written the way the product writes every row (``outbox.write``), and read back."""

from notifications.models import OutboxMessage
from notifications.outbox import Message, write


def queued(reason_key: str, kind: str, **fields) -> OutboxMessage:
    write([Message(reason_key, kind, **fields)])
    return OutboxMessage.objects.get(reason_key=reason_key)
