from django.urls import path

from crm.accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/api-tokens/", views.api_token_list, name="api_token_list"),
    path("profile/api-tokens/new/", views.api_token_create, name="api_token_create"),
    path("profile/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("profile/sessions/", views.session_list, name="session_list"),
    path("profile/sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("profile/sessions/end-others/", views.session_end_others, name="session_end_others"),
    path("profile/sessions/end-all/", views.session_end_all, name="session_end_all"),
    path("2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("2fa/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("2fa/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("field-rules/", views.field_rules, name="field_rules"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
]
