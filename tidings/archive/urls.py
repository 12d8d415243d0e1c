from django.urls import path

from tidings.archive import views

app_name = "archive"
# Post slugs are 32 hex digits, so the fixed words below never collide with a post.
urlpatterns = [
    path("<slug:name>/", views.index, name="index"),
    path("<slug:name>/feed/", views.feed, name="feed"),
    path("<slug:name>/search/", views.search, name="search"),
    path("<slug:name>/<int:year>/", views.year, name="year"),
    path("<slug:name>/<int:year>/<int:month>/", views.month, name="month"),
    path("<slug:name>/<int:year>/<int:month>/mbox/", views.month_mbox, name="month_mbox"),
    path("<slug:name>/thread/<slug:slug>/", views.thread, name="thread"),
    path("<slug:name>/thread/<slug:slug>/mbox/", views.thread_mbox, name="thread_mbox"),
    path("<slug:name>/<slug:slug>/", views.post, name="post"),
    path("<slug:name>/<slug:slug>/feed/", views.comments_feed, name="comments_feed"),
    path("<slug:name>/<slug:slug>/mbox/", views.post_mbox, name="post_mbox"),
    path(
        "<slug:name>/<slug:slug>/attachments/<int:position>/",
        views.attachment,
        name="attachment",
    ),
    path(
        "<slug:name>/<slug:slug>/unsubscribe/",
        views.comment_unsubscribe,
        name="comment_unsubscribe",
    ),
]
