from django.urls import path

from tidings.archive import bulletin_views as views

app_name = "bulletins"
# A bulletin's number comes first, so an account whose code is only digits has no archive
# here; "search" is lower case, so no account code (capitals, digits, _) hides it.
urlpatterns = [
    path("<int:pk>/", views.web_copy, name="web_copy"),
    path("<str:account>/", views.account_archive, name="account"),
    path("<str:account>/search/", views.search, name="search"),
    path("<str:account>/<str:topic>/", views.topic_index, name="topic"),
    path("<str:account>/<str:topic>/feed/", views.topic_feed, name="topic_feed"),
    path("<str:account>/<str:topic>/<int:year>/<int:month>/", views.topic_month, name="month"),
]
