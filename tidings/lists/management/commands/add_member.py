from tidings.lists.actions import add_member
from tidings.lists.commands import ListAddressesCommand


class Command(ListAddressesCommand):
    help = "Add members to a list."
    add = staticmethod(add_member)
    done = "{address} is a member of {list}."
    key = "members"
