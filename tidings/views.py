from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tidings.accounts.models import Account
from tidings.lib.pagecache import public_page
from tidings.lists.models import MailingList


@public_page
def home(request: HttpRequest) -> HttpResponse:
    lists = MailingList.objects.filter(archive_public=True).order_by("name")
    accounts = Account.objects.order_by("name")
    return render(request, "home.html", {"lists": lists, "accounts": accounts})
