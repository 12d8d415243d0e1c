from django.urls import path

from tidings.feeds import console_views as views

app_name = "feeds"
urlpatterns = [
    path("<str:account>/feeds/", views.index, name="index"),
    path("<str:account>/feeds/new/", views.add, name="add"),
    path("<str:account>/feeds/drafts/", views.drafts, name="drafts"),
    path("<str:account>/feeds/drafts/<int:pk>/", views.draft, name="draft"),
    path("<str:account>/feeds/drafts/<int:pk>/publish/", views.publish, name="publish"),
    path("<str:account>/feeds/<int:pk>/", views.detail, name="watch"),
    path("<str:account>/feeds/<int:pk>/edit/", views.edit, name="edit"),
    path("<str:account>/feeds/<int:pk>/delete/", views.delete, name="delete"),
    path("<str:account>/feeds/<int:pk>/poll/", views.poll_now, name="poll"),
]
