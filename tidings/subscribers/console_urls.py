from django.urls import path

from tidings.subscribers import console_audiences
from tidings.subscribers import console_views as console

app_name = "subscribers_console"
urlpatterns = [
    path("<str:account>/subscribers/", console.subscriber_list, name="list"),
    path("<str:account>/subscribers/<int:pk>/", console.subscriber_detail, name="detail"),
    path(
        "<str:account>/subscribers/<int:pk>/distribution-list/",
        console.distribution_list,
        name="distribution_list",
    ),
    path("<str:account>/subscribers/export.csv", console.export, name="export"),
    path("<str:account>/subscribers/imports/", console.import_list, name="imports"),
    path("<str:account>/subscribers/imports/<int:pk>/", console.import_job, name="import_job"),
    path(
        "<str:account>/subscribers/imports/<int:pk>/errors.csv",
        console.import_errors,
        name="import_errors",
    ),
    path("<str:account>/suppressions/", console.suppression_list, name="suppressions"),
    path("<str:account>/suppressions/add/", console.suppression_add, name="suppression_add"),
    path(
        "<str:account>/suppressions/<int:pk>/remove/",
        console.suppression_remove,
        name="suppression_remove",
    ),
    path("<str:account>/signup-form/", console.embed, name="embed"),
    path("<str:account>/network/", console.network_page, name="network"),
    path("<str:account>/audiences/", console_audiences.audience_page, name="audiences"),
]
