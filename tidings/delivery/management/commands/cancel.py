from tidings.delivery.actions import cancel_send
from tidings.delivery.commands import SendStateCommand


class Command(SendStateCommand):
    help = "Cancel a send: recipients not yet sent to get nothing."
    action = staticmethod(cancel_send)
