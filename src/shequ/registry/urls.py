from django.urls import path

from . import people, views

urlpatterns = [
    path("estates/", views.EstateList.as_view(), name="estate-list"),
    path("estates/add/", views.EstateCreate.as_view(), name="estate-add"),
    path("estates/<int:pk>/", views.EstateDetail.as_view(), name="estate-detail"),
    path("estates/<int:pk>/edit/", views.EstateUpdate.as_view(), name="estate-edit"),
    path("buildings/", views.BuildingList.as_view(), name="building-list"),
    path("buildings/add/", views.BuildingCreate.as_view(), name="building-add"),
    path("buildings/<int:pk>/", views.BuildingDetail.as_view(), name="building-detail"),
    path("buildings/<int:pk>/edit/", views.BuildingUpdate.as_view(), name="building-edit"),
    path("building-groups/", views.BuildingGroupList.as_view(), name="buildinggroup-list"),
    path("building-groups/add/", views.BuildingGroupCreate.as_view(), name="buildinggroup-add"),
    path("building-groups/<int:pk>/", views.BuildingGroupDetail.as_view(), name="buildinggroup-detail"),
    path("building-groups/<int:pk>/edit/", views.BuildingGroupUpdate.as_view(), name="buildinggroup-edit"),
    path("grids/", views.GridList.as_view(), name="grid-list"),
    path("grids/add/", views.GridCreate.as_view(), name="grid-add"),
    path("grids/<int:pk>/", views.GridDetail.as_view(), name="grid-detail"),
    path("grids/<int:pk>/edit/", views.GridUpdate.as_view(), name="grid-edit"),
    path("blocks/", views.BlockList.as_view(), name="block-list"),
    path("blocks/add/", views.BlockCreate.as_view(), name="block-add"),
    path("blocks/<int:pk>/", views.BlockDetail.as_view(), name="block-detail"),
    path("blocks/<int:pk>/edit/", views.BlockUpdate.as_view(), name="block-edit"),
    path("blocks/<int:pk>/members/add/", views.BlockMemberCreate.as_view(), name="block-member-add"),
]

urlpatterns += [
    path("residents/", people.ResidentList.as_view(), name="resident-list"),
    path("residents/add/", people.ResidentCreate.as_view(), name="resident-add"),
    path("residents/<int:pk>/", people.ResidentDetail.as_view(), name="resident-detail"),
    path("residents/<int:pk>/edit/", people.ResidentUpdate.as_view(), name="resident-edit"),
    path("residents/<int:pk>/end/", people.ResidentEndResidence.as_view(), name="resident-end"),
    path("residents/<int:pk>/reveal/", people.ResidentReveal.as_view(), name="resident-reveal"),
    path("resident-tags/", people.ResidentTagList.as_view(), name="residenttag-list"),
    path("resident-tags/add/", people.ResidentTagCreate.as_view(), name="residenttag-add"),
    path("resident-tags/<int:pk>/edit/", people.ResidentTagUpdate.as_view(), name="residenttag-edit"),
    path("personal-data-access/", people.AccessLogList.as_view(), name="personaldataaccess-list"),
]
