from django.urls import path

from tidings.lists import console_views as views

app_name = "lists_console"
urlpatterns = [
    path("<str:account>/lists/", views.index, name="index"),
    path("<str:account>/lists/<slug:name>/", views.settings_page, name="settings"),
    path("<str:account>/lists/<slug:name>/members/", views.members, name="members"),
    path("<str:account>/lists/<slug:name>/members/add/", views.add_members, name="add_members"),
    path("<str:account>/lists/<slug:name>/queue/", views.queue, name="queue"),
    path("<str:account>/lists/<slug:name>/senders/", views.senders, name="senders"),
]
