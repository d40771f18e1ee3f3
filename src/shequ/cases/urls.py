from django.urls import path

from . import dashboard, views

urlpatterns = [
    path("cases/", views.CaseList.as_view(), name="case-list"),
    path("cases/new/", views.CaseCreate.as_view(), name="case-add"),
    path("cases/places/", views.PlaceOptions.as_view(), name="case-place-options"),
    path("cases/queue/<slug:queue>/", views.CaseQueue.as_view(), name="case-queue"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case-detail"),
    path("cases/<int:pk>/supervise/", views.CaseSuperviseView.as_view(), name="case-supervise"),
    path("cases/<int:pk>/<slug:action>/", views.CaseActionView.as_view(), name="case-action"),
    path("notifications/", views.NotificationList.as_view(), name="notification-list"),
    path("summons/", views.SummonsList.as_view(), name="summons-list"),
    path("summons/new/", views.SummonsCreate.as_view(), name="summons-add"),
    path("summons/<int:pk>/", views.SummonsDetail.as_view(), name="summons-detail"),
    path("summons/<int:pk>/answer/", views.SummonsAnswer.as_view(), name="summons-answer"),
    path("summons/<int:pk>/close/", views.SummonsClose.as_view(), name="summons-close"),
    path("categories/", views.CategoryList.as_view(), name="category-list"),
    path("categories/add/", views.CategoryCreate.as_view(), name="category-add"),
    path("categories/<int:pk>/edit/", views.CategoryUpdate.as_view(), name="category-edit"),
    path("responsibility-list/", views.RuleList.as_view(), name="rule-list"),
    path("responsibility-list/add/", views.RuleCreate.as_view(), name="rule-add"),
    path("responsibility-list/<int:pk>/edit/", views.RuleUpdate.as_view(), name="rule-edit"),
    path("open311-clients/", views.Open311ClientList.as_view(), name="open311client-list"),
    path("open311-clients/add/", views.Open311ClientCreate.as_view(), name="open311client-add"),
    path("r/<str:token>/", views.PublicRating.as_view(), name="case-rate-public"),
    path("cases/dashboard/", dashboard.CaseDashboard.as_view(), name="case-dashboard"),
    path("cases/assessment/", dashboard.DepartmentAssessment.as_view(), name="case-assessment"),
]
