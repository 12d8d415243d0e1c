from tidings.delivery.actions import pause_send
from tidings.delivery.commands import SendStateCommand


class Command(SendStateCommand):
    help = "Pause a send: workers stop taking its rows until it is resumed."
    action = staticmethod(pause_send)
