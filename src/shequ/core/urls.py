"""Pages of core: the Excel import and export of every register, and the holiday table (节假日安排); the audit
search is in shequ.urls."""

from django.urls import path

from . import holidays, views

urlpatterns = [
    path("excel/", views.ExcelIndex.as_view(), name="excel-index"),
    path("excel/jobs/<int:pk>/", views.ImportJobDetail.as_view(), name="excel-job"),
    path("excel/jobs/<int:pk>/errors/", views.ImportJobErrors.as_view(), name="excel-job-errors"),
    path("excel/jobs/<int:pk>/commit/", views.ImportJobCommit.as_view(), name="excel-job-commit"),
    path("excel/<slug:register>/import/", views.ExcelImport.as_view(), name="excel-import"),
    path("excel/<slug:register>/template/", views.ExcelTemplate.as_view(), name="excel-template"),
    path("excel/<slug:register>/export/", views.ExcelExport.as_view(), name="excel-export"),
]

# The district's holiday table (节假日安排), which core.workdays computes time limits with.
urlpatterns += [
    path("calendar/", holidays.CalendarDayList.as_view(), name="calendarday-list"),
    path("calendar/add/", holidays.CalendarDayCreate.as_view(), name="calendarday-add"),
    path("calendar/<int:pk>/edit/", holidays.CalendarDayUpdate.as_view(), name="calendarday-edit"),
]
