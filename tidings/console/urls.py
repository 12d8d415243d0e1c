from django.contrib.auth import views as auth_views
from django.urls import path

from tidings.console import views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("<str:account>/", views.account_home, name="account"),
]
