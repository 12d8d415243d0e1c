from tidings.delivery.actions import resume_send
from tidings.delivery.commands import SendStateCommand


class Command(SendStateCommand):
    help = "Resume a paused send where it stopped."
    action = staticmethod(resume_send)
