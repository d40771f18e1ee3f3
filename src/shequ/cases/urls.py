from captcha.views import captcha_image
from django.urls import path

from . import attachments, dashboard, public, views

urlpatterns = [
    path("cases/", views.CaseList.as_view(), name="case-list"),
    path("cases/new/", views.CaseCreate.as_view(), name="case-add"),
    path("cases/places/", views.PlaceOptions.as_view(), name="case-place-options"),
    path("cases/queue/<slug:queue>/", views.CaseQueue.as_view(), name="case-queue"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case-detail"),
    path("cases/<int:pk>/print/", views.CasePrint.as_view(), name="case-print"),
    path("cases/<int:pk>/supervise/", views.CaseSuperviseView.as_view(), name="case-supervise"),
    path("cases/<int:pk>/<slug:action>/", views.CaseActionView.as_view(), name="case-action"),
    path("notifications/", views.NotificationList.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationsRead.as_view(), name="notifications-read"),
    path("summons/", views.SummonsList.as_view(), name="summons-list"),
    path("summons/new/", views.SummonsCreate.as_view(), name="summons-add"),
    path("summons/<int:pk>/", views.SummonsDetail.as_view(), name="summons-detail"),
    path("summons/<int:pk>/answer/", views.SummonsAnswer.as_view(), name="summons-answer"),
    path("summons/<int:pk>/close/", views.SummonsClose.as_view(), name="summons-close"),
    path("summons/<int:pk>/print/", views.SummonsPrint.as_view(), name="summons-print"),
    path("categories/", views.CategoryList.as_view(), name="category-list"),
    path("categories/add/", views.CategoryCreate.as_view(), name="category-add"),
    path("categories/<int:pk>/edit/", views.CategoryUpdate.as_view(), name="category-edit"),
    path("responsibility-list/", views.RuleList.as_view(), name="rule-list"),
    path("responsibility-list/add/", views.RuleCreate.as_view(), name="rule-add"),
    path("responsibility-list/<int:pk>/edit/", views.RuleUpdate.as_view(), name="rule-edit"),
    path("open311-clients/", views.Open311ClientList.as_view(), name="open311client-list"),
    path("open311-clients/add/", views.Open311ClientCreate.as_view(), name="open311client-add"),
    # Residents without an account (cases.public): report, follow by the link, rate; their own photos.
    path("report/", public.PublicReport.as_view(), name="public-report"),
    path("report/places/", public.PublicPlaces.as_view(), name="public-report-places"),
    path("report/sent/<str:token>/", public.PublicReportSent.as_view(), name="public-report-sent"),
    path("report/captcha/<str:key>/", captcha_image, {"scale": 1}, name="captcha-image"),
    path("r/<str:token>/", public.PublicTracking.as_view(), name="case-track"),
    path("r/<str:token>/photos/<int:pk>/", attachments.public_attachment_file, name="public-attachment"),
    path(
        "r/<str:token>/photos/<int:pk>/thumb/",
        attachments.public_attachment_thumbnail,
        name="public-attachment-thumb",
    ),
    # Staff: a case's files, through the case's scope (never MEDIA_URL).
    path("attachments/<int:pk>/", attachments.attachment_file, name="attachment"),
    path("attachments/<int:pk>/thumb/", attachments.attachment_thumbnail, name="attachment-thumb"),
    path("cases/dashboard/", dashboard.CaseDashboard.as_view(), name="case-dashboard"),
    path("cases/assessment/", dashboard.DepartmentAssessment.as_view(), name="case-assessment"),
]
