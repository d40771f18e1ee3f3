"""Browsing the unit tree down to the places: district → street → residential area → estates →
buildings → building groups (the last two on the estate and building pages). Place search."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from shequ.core.audit import history_for
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit
from shequ.org.scoping import memberships_of

from .models import Block, BuildingGroup, Estate, Grid


def top_units(user):
    """The highest units the user can see: the district for district roles, their street for street
    staff, their residential area for committee staff."""
    visible = Unit.objects.restrict(user, "view").exclude(kind=UnitKind.DEPARTMENT)
    paths = [path for path in visible.values_list("path", flat=True)]
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    return visible.filter(path__in=tops).order_by("path")


class HomeView(LoginRequiredMixin, TemplateView):
    """A role's home page is its to-do list (shequ.navigation.todo_items: each queue it works, with its
    count and a link to the list, most urgent first), then where it works and what it governs."""

    template_name = "registry/home.html"

    def get_context_data(self, **kwargs):
        from shequ.navigation import shortcuts, todo_items  # the apps above registry declare the items

        context = super().get_context_data(**kwargs)
        user = self.request.user
        areas = Unit.objects.restrict(user, "view").filter(kind=UnitKind.NEIGHBORHOOD)
        context.update(
            todo=todo_items(user),
            shortcuts=shortcuts(self.request),
            now=timezone.now(),
            tops=top_units(user),
            memberships=memberships_of(user),
            counts=[
                (_("居民区"), areas.count(), "unit-tree"),
                (_("小区"), Estate.objects.restrict(user, "view").count(), "estate-list"),
                (_("楼组"), BuildingGroup.objects.restrict(user, "view").count(), "buildinggroup-list"),
                (_("网格"), Grid.objects.restrict(user, "view").count(), "grid-list"),
                (_("街区"), Block.objects.restrict(user, "view").count(), "block-list"),
            ],
        )
        return context


class UnitTreeView(LoginRequiredMixin, TemplateView):
    template_name = "registry/unit_tree.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tops"] = top_units(self.request.user).annotate(child_count=Count("children"))
        return context


class UnitDetailView(LoginRequiredMixin, TemplateView):
    """One unit of the tree with what lies directly under it. Out of scope is a 404."""

    template_name = "registry/unit_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = Unit.objects.restrict(user, "view").exclude(kind=UnitKind.DEPARTMENT)
        unit = get_object_or_404(visible.select_related("parent"), code=self.kwargs["code"])
        # Ancestors appear in the breadcrumb; only those the user may open are links.
        ancestors = Unit.objects.filter(path__in=unit.ancestor_paths()).order_by("path")
        visible_paths = set(visible.filter(path__in=unit.ancestor_paths()).values_list("path", flat=True))
        context.update(
            unit=unit,
            breadcrumb=[(a, a.path in visible_paths) for a in ancestors],
            children=visible.filter(parent=unit)
            .annotate(
                estate_count=Count("owned_estates", distinct=True)
                if unit.kind in STREET_KINDS
                else Count("children")
            )
            .order_by("code"),
            can_change=Unit.objects.restrict(user, "change").filter(pk=unit.pk).exists(),
            can_add_area=unit.kind in STREET_KINDS and user.can("org.unit", "add"),
            history=history_for(unit)[:20],
        )
        if unit.kind == UnitKind.NEIGHBORHOOD:
            context["estates"] = (
                Estate.objects.restrict(user, "view")
                .filter(unit=unit)
                .annotate(building_count=Count("buildings", distinct=True))
                .order_by("name")
            )
            context["can_add_estate"] = user.can("registry.estate", "add")
        if unit.kind in STREET_KINDS:
            context["grids"] = Grid.objects.restrict(user, "view").filter(unit=unit).order_by("code")
            context["blocks"] = Block.objects.restrict(user, "view").filter(unit=unit).order_by("name")
        return context


class PlaceSearchView(LoginRequiredMixin, TemplateView):
    """The search box: units, estates and building groups by name, code, address or group leader."""

    template_name = "registry/search.html"
    limit = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()[:50]
        context["q"] = query
        if query:
            user = self.request.user
            context["units"] = (
                Unit.objects.restrict(user, "view")
                .filter(Q(name__icontains=query) | Q(code__startswith=query))
                .select_related("parent")[: self.limit]
            )
            context["estates"] = (
                Estate.objects.restrict(user, "view")
                .filter(Q(name__icontains=query) | Q(address__icontains=query))
                .select_related("unit")[: self.limit]
            )
            context["groups"] = (
                BuildingGroup.objects.restrict(user, "view")
                .filter(
                    Q(leader_name__icontains=query)
                    | Q(building__address__icontains=query)
                    | Q(building__estate__name__icontains=query)
                )
                .select_related("building__estate", "unit")[: self.limit]
            )
        return context
