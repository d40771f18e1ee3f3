from django.urls import path

from . import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/password/done/", views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("units/add/", views.UnitCreate.as_view(), name="unit-add"),
    path("units/<str:code>/edit/", views.UnitUpdate.as_view(), name="unit-edit"),
    path("departments/", views.DepartmentList.as_view(), name="department-list"),
    path("departments/add/", views.DepartmentCreate.as_view(), name="department-add"),
    path("departments/<str:code>/", views.DepartmentDetail.as_view(), name="department-detail"),
    path("departments/<str:code>/edit/", views.DepartmentUpdate.as_view(), name="department-edit"),
]
