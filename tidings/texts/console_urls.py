from django.urls import path

from tidings.texts import console_views as views

app_name = "texts"
urlpatterns = [
    path("<str:account>/texts/", views.index, name="index"),
    path("<str:account>/texts/settings/", views.program_settings, name="settings"),
    path("<str:account>/texts/numbers/", views.add_number, name="add_number"),
    path("<str:account>/texts/keywords/<int:topic>/", views.keyword, name="keyword"),
]
