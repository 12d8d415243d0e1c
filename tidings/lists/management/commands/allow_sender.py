from tidings.lists.actions import allow_sender
from tidings.lists.commands import ListAddressesCommand


class Command(ListAddressesCommand):
    help = "Put senders on a list's accept-list: their posts are relayed without moderation."
    add = staticmethod(allow_sender)
    done = "{address} may post to {list}."
    key = "accept"
