import django_tables2 as tables
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import display
from .audit import make_readable
from .models import AuditEntry


def yes_no_column(**kwargs) -> tables.BooleanColumn:
    """是/否 in words: the default draws ✔/✘ (read out in English by screen readers) and plain columns
    print True/False."""
    return tables.BooleanColumn(yesno=(_("是"), _("否")), **kwargs)


def editable_link(url_name: str, kwarg: str = "pk", attribute: str = "pk"):
    """A `linkify` for a column that leads to a record's edit page: a link only on the records the user may
    change, plain text on the others (a clerk who may only read the categories gets no link that answers
    403). One query for the page, however many rows:

        name = tables.Column(linkify=editable_link("category-edit"))
    """

    def link(record, table):
        changeable = getattr(table, "_changeable", None)
        if changeable is None:
            changeable = table._changeable = _changeable_on_page(table)
        if record.pk not in changeable:
            return None
        return reverse(url_name, kwargs={kwarg: getattr(record, attribute)})

    return link


def _changeable_on_page(table) -> set:
    request = getattr(table, "request", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return set()
    pks = [row.record.pk for row in table.paginated_rows]
    model = table._meta.model
    return set(model.objects.restrict(user, "change").filter(pk__in=pks).values_list("pk", flat=True))


class LocalDateTimeColumn(tables.Column):
    """A time in the district's local time, written the Chinese way (2026年12月2日 14:05)."""

    def render(self, value):
        return display.local_datetime(value)


class AuditTable(tables.Table):
    created_at = LocalDateTimeColumn(verbose_name=_("时间"))
    person = tables.Column(verbose_name=_("操作人"), accessor="actor_name", orderable=False)
    content_type = tables.Column(verbose_name=_("记录类型"), orderable=False)
    changes = tables.TemplateColumn(
        template_name="core/_audit_changes.html", verbose_name=_("变更"), orderable=False
    )

    class Meta:
        model = AuditEntry
        fields = [
            "created_at",
            "person",
            "action",
            "content_type",
            "object_repr",
            "changes",
            "reason",
            "request_id",
        ]
        attrs = {"class": "table table-vcenter card-table table-sm"}

    def before_render(self, request):
        # The page's entries made readable at once: one query per kind of related record, not per row.
        make_readable(row.record for row in self.paginated_rows)

    def render_person(self, record):
        return record.person

    def render_content_type(self, value):
        model = value.model_class()
        return model._meta.verbose_name if model is not None else value.model
