"""URL configuration of the salesledger site."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from salesledger.config import views

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
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
