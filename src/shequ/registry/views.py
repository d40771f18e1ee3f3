"""Registry pages: declarations on the scoped base views. Writes go through registry.services."""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from shequ.core.views import ScopedCreateView, ScopedDetailView, ScopedListView, ScopedUpdateView

from . import services
from .filters import BlockFilter, BuildingFilter, BuildingGroupFilter, EstateFilter, GridFilter
from .forms import BlockForm, BlockMemberForm, BuildingForm, BuildingGroupForm, EstateForm, GridForm
from .models import Block, BlockMember, Building, BuildingGroup, Estate, Grid
from .tables import BlockTable, BuildingGroupTable, BuildingTable, EstateTable, GridTable


def _version(form):
    return form.cleaned_data.get("version")


# 小区 -------------------------------------------------------------------------------------------


class EstateList(ScopedListView):
    model = Estate
    filterset_class = EstateFilter
    table_class = EstateTable
    select_related = ("unit__parent",)
    add_url_name = "estate-add"


class EstateDetail(ScopedDetailView):
    model = Estate
    select_related = ("unit__parent",)
    fields = ("name", "unit", "address", "housing_type", "built_year", "households", "floor_area")
    edit_url_name = "estate-edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["buildings"] = (
            Building.objects.restrict(self.request.user, "view")
            .filter(estate=self.object)
            .annotate(group_count=Count("groups"))
            .order_by("number")
        )
        context["can_add_building"] = self.request.user.can("registry.building", "add")
        return context


class EstateCreate(ScopedCreateView):
    model = Estate
    form_class = EstateForm

    def get_initial(self):
        return {"unit": self.request.GET.get("unit")}

    def save(self, form):
        return services.create_estate(actor=self.request.user, **form.model_fields())


class EstateUpdate(ScopedUpdateView):
    model = Estate
    form_class = EstateForm

    def save(self, form):
        return services.update_estate(
            actor=self.request.user,
            estate=self.object,
            changes=form.model_fields(),
            expected_version=_version(form),
            reason=form.cleaned_data.get("reason", ""),
        )


# 楼栋 -------------------------------------------------------------------------------------------


class BuildingList(ScopedListView):
    model = Building
    filterset_class = BuildingFilter
    table_class = BuildingTable
    select_related = ("estate", "unit")
    add_url_name = "building-add"
    hidden_filters = ("estate",)  # the search box finds estates by name


class BuildingDetail(ScopedDetailView):
    model = Building
    select_related = ("estate__unit",)
    fields = ("estate", "number", "unit", "address", "floors", "households", "has_elevator")
    edit_url_name = "building-edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["groups"] = BuildingGroup.objects.restrict(self.request.user, "view").filter(
            building=self.object
        )
        context["can_add_group"] = self.request.user.can("registry.buildinggroup", "add")
        return context


class BuildingCreate(ScopedCreateView):
    model = Building
    form_class = BuildingForm

    def get_initial(self):
        return {"estate": self.request.GET.get("estate")}

    def save(self, form):
        return services.create_building(actor=self.request.user, **form.model_fields())


class BuildingUpdate(ScopedUpdateView):
    model = Building
    form_class = BuildingForm

    def save(self, form):
        return services.update_building(
            actor=self.request.user,
            building=self.object,
            changes=form.model_fields(),
            expected_version=_version(form),
            reason=form.cleaned_data.get("reason", ""),
        )


# 楼组 -------------------------------------------------------------------------------------------


class BuildingGroupList(ScopedListView):
    model = BuildingGroup
    filterset_class = BuildingGroupFilter
    table_class = BuildingGroupTable
    select_related = ("building__estate", "unit")
    add_url_name = "buildinggroup-add"
    hidden_filters = ("estate", "building")  # the search box finds estates by name


class BuildingGroupDetail(ScopedDetailView):
    model = BuildingGroup
    select_related = ("building__estate", "unit")
    fields = ("building", "name", "unit", "households", "leader_name", "note")
    edit_url_name = "buildinggroup-edit"


class BuildingGroupCreate(ScopedCreateView):
    model = BuildingGroup
    form_class = BuildingGroupForm

    def get_initial(self):
        return {"building": self.request.GET.get("building")}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        building = self.request.GET.get("building") or self.request.POST.get("building")
        if building and str(building).isdigit():
            kwargs["estate"] = (
                Building.objects.filter(pk=building).values_list("estate_id", flat=True).first()
            )
        return kwargs

    def save(self, form):
        return services.create_building_group(actor=self.request.user, **form.model_fields())


class BuildingGroupUpdate(ScopedUpdateView):
    model = BuildingGroup
    form_class = BuildingGroupForm

    def save(self, form):
        return services.update_building_group(
            actor=self.request.user,
            group=self.object,
            changes=form.model_fields(),
            expected_version=_version(form),
            reason=form.cleaned_data.get("reason", ""),
        )


# 网格 -------------------------------------------------------------------------------------------


class GridList(ScopedListView):
    model = Grid
    filterset_class = GridFilter
    table_class = GridTable
    add_url_name = "grid-add"

    def get_queryset(self):
        # Aggregating drops Meta.ordering, so the list orders itself (pagination needs a stable order).
        return (
            super()
            .get_queryset()
            .select_related("unit")
            .annotate(area_count=Count("neighborhoods"))
            .order_by("code")
        )


class GridDetail(ScopedDetailView):
    model = Grid
    select_related = ("unit",)
    fields = ("code", "name", "unit", "neighborhoods", "description")
    edit_url_name = "grid-edit"


class GridCreate(ScopedCreateView):
    model = Grid
    form_class = GridForm

    def save(self, form):
        return services.create_grid(
            actor=self.request.user, neighborhoods=form.cleaned_data["neighborhoods"], **form.model_fields()
        )


class GridUpdate(ScopedUpdateView):
    model = Grid
    form_class = GridForm

    def save(self, form):
        return services.update_grid(
            actor=self.request.user,
            grid=self.object,
            changes=form.model_fields(),
            neighborhoods=form.cleaned_data["neighborhoods"],
            expected_version=_version(form),
            reason=form.cleaned_data.get("reason", ""),
        )


# 街区 -------------------------------------------------------------------------------------------


class BlockList(ScopedListView):
    model = Block
    filterset_class = BlockFilter
    table_class = BlockTable
    add_url_name = "block-add"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("unit")
            .annotate(
                area_count=Count("neighborhoods", distinct=True), member_count=Count("members", distinct=True)
            )
            .order_by("unit__path", "name")
        )


class BlockDetail(ScopedDetailView):
    model = Block
    select_related = ("unit",)
    fields = ("name", "unit", "neighborhoods", "description")
    edit_url_name = "block-edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = BlockMember.objects.restrict(self.request.user, "view").filter(block=self.object)
        return context


class BlockCreate(ScopedCreateView):
    model = Block
    form_class = BlockForm

    def save(self, form):
        return services.create_block(
            actor=self.request.user, neighborhoods=form.cleaned_data["neighborhoods"], **form.model_fields()
        )


class BlockUpdate(ScopedUpdateView):
    model = Block
    form_class = BlockForm

    def save(self, form):
        return services.update_block(
            actor=self.request.user,
            block=self.object,
            changes=form.model_fields(),
            neighborhoods=form.cleaned_data["neighborhoods"],
            expected_version=_version(form),
            reason=form.cleaned_data.get("reason", ""),
        )


class BlockMemberCreate(ScopedCreateView):
    """Adding a non-residential member changes the block: it needs 'change' on that block."""

    model = Block
    grant = "change"
    form_class = BlockMemberForm

    def get_block(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("为“%(block)s”添加成员单位") % {"block": self.get_block()}
        return context

    def save(self, form):
        block = self.get_block()
        services.add_block_member(actor=self.request.user, block=block, **form.cleaned_data)
        return block
