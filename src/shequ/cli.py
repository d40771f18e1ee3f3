"""The `shequ` command: Django's management commands under the platform's name
(`shequ migrate`, `shequ demo`, `shequ serve`, `shequ createadmin`, `shequ check`, ...)."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 — loads the settings, which read and check the SHEQU_* environment
    except ImproperlyConfigured as error:
        # A deployment mistake (no secret key, unreadable key file): say what to set, without a traceback.
        sys.exit(f"shequ：配置错误：{error}")

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "shequ"
    # Commands answer in the platform's language (validation messages, errors), like its pages.
    import django
    from django.utils import translation

    django.setup()
    translation.activate(settings.LANGUAGE_CODE)
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
