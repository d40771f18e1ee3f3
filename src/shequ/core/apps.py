from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shequ.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self):
        from django.core import checks

        from . import lookups  # noqa: F401  (registers field__in_array)
        from .workdays import check_calendar_years

        # Not tagged "database" although it reads the holiday table: it must show in a plain `shequ check`.
        checks.register(check_calendar_years)

        from .crypto import check_personal_data_key

        # Production refuses to start without the personal-data key (X2): a server that could not decrypt,
        # or worse, would write values nobody can read later. An Error stops migrate, runserver, run_huey
        # and `shequ check`; wsgi.py refuses too (gunicorn runs no checks). `shequ keys init` creates it.
        checks.register(check_personal_data_key)
