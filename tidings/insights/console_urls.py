from django.urls import path

from tidings.insights import console_views as views

app_name = "insights"
urlpatterns = [
    path("<str:account>/analytics/", views.index, name="index"),
    path("<str:account>/analytics/settings/", views.tracking_settings, name="settings"),
    path("<str:account>/analytics/bulletins/<int:bulletin>/", views.report, name="report"),
    path(
        "<str:account>/analytics/bulletins/<int:bulletin>/recipients.csv",
        views.recipients_csv,
        name="recipients_csv",
    ),
    path("<str:account>/analytics/topics/<int:topic>/", views.topic_growth, name="topic"),
]
