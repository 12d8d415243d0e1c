from django.contrib.auth import views as auth_views
from django.urls import path

from tidings.console import composer, manage, media, templates_page, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("<str:account>/", views.account_home, name="account"),
    # Bulletins and the composer.
    path("<str:account>/bulletins/", composer.bulletin_list, name="bulletins"),
    path("<str:account>/media/", media.library, name="media"),
    path("<str:account>/templates/", templates_page.templates, name="templates"),
    path("<str:account>/templates/<int:pk>/", templates_page.templates, name="template"),
    path("<str:account>/bulletins/new/", composer.compose, name="compose"),
    path("<str:account>/bulletins/autosave/", composer.autosave, name="bulletin_autosave_new"),
    path("<str:account>/bulletins/render/", composer.render_body, name="bulletin_render"),
    path("<str:account>/bulletins/<int:pk>/", composer.bulletin_detail, name="bulletin"),
    path("<str:account>/bulletins/<int:pk>/edit/", composer.compose, name="bulletin_edit"),
    path(
        "<str:account>/bulletins/<int:pk>/autosave/",
        composer.autosave,
        name="bulletin_autosave",
    ),
    path("<str:account>/bulletins/<int:pk>/preview/", composer.preview, name="bulletin_preview"),
    path("<str:account>/bulletins/<int:pk>/cancel/", composer.cancel, name="bulletin_cancel"),
    path("<str:account>/bulletins/<int:pk>/send/", composer.confirm_send, name="bulletin_send"),
    # Account administration.
    path("<str:account>/settings/", manage.account_settings, name="settings"),
    path("<str:account>/users/", manage.users, name="users"),
    path("<str:account>/users/<int:pk>/", manage.user_edit, name="user"),
    path("<str:account>/senders/", manage.senders, name="senders"),
    path("<str:account>/senders/<int:pk>/delete/", manage.sender_delete, name="sender_delete"),
    # Topics and categories.
    path("<str:account>/topics/", manage.topics, name="topics"),
    path("<str:account>/topics/new/", manage.topic_edit, name="topic_new"),
    path("<str:account>/topics/<int:pk>/", manage.topic_edit, name="topic"),
    path("<str:account>/categories/", manage.categories, name="categories"),
    path("<str:account>/categories/<int:pk>/", manage.category_edit, name="category"),
]
