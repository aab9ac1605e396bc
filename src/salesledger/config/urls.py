"""URL configuration of the salesledger site."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from salesledger.config import access, views
from salesledger.web import urls as web_urls

admin.site.site_header = "salesledger back office"
admin.site.site_title = "salesledger"
admin.site.index_title = "Back office"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", access.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", access.two_factor_setup, name="two_factor_setup"),
    path("account/security/", access.account_security, name="account_security"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include(web_urls)),
]
