import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry


class AuditTable(tables.Table):
    created_at = tables.DateTimeColumn(format="Y-m-d H:i:s")
    content_type = tables.Column(verbose_name=_("记录类型"), orderable=False)
    changes = tables.TemplateColumn(
        template_name="core/_audit_changes.html", verbose_name=_("变更"), orderable=False
    )

    class Meta:
        model = AuditEntry
        fields = [
            "created_at",
            "actor_name",
            "action",
            "content_type",
            "object_repr",
            "changes",
            "reason",
            "request_id",
        ]
        attrs = {"class": "table table-vcenter card-table table-sm"}
