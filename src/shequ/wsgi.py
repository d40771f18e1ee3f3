import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse here to serve without the personal-data key (production).
from shequ.core.crypto import check_keys  # noqa: E402

check_keys()
