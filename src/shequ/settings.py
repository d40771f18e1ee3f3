"""The one settings module. Everything a deployment changes comes from SHEQU_* environment variables;
docs/deployment.md lists them. With no variables set, Shequ runs embedded: SQLite and huey on
SQLite under ./var, debug off unless SHEQU_DEBUG says otherwise."""

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(envstr("SHEQU_DATA_DIR", "var")).resolve()
DEBUG = envbool("SHEQU_DEBUG", False)
# The embedded mode is the one `make demo` uses: no database URL given means SQLite under DATA_DIR.
EMBEDDED = not envstr("SHEQU_DATABASE_URL")


def _secret_key() -> str:
    # ImproperlyConfigured, so that `shequ` (cli.py) prints the message alone instead of a traceback.
    if key := envstr("SHEQU_SECRET_KEY"):
        return key
    if key_file := envstr("SHEQU_SECRET_KEY_FILE"):
        try:
            key = Path(key_file).read_text().strip()
        except OSError as error:
            cause = {
                FileNotFoundError: "文件不存在",
                PermissionError: "没有读取权限",
                IsADirectoryError: "这是一个目录",
            }.get(type(error), error.strerror)
            raise ImproperlyConfigured(
                f"无法读取密钥文件 SHEQU_SECRET_KEY_FILE={key_file}：{cause}"
            ) from None
        if not key:
            # An empty key would only fail at the first login, far from its cause.
            raise ImproperlyConfigured(f"密钥文件 SHEQU_SECRET_KEY_FILE={key_file} 为空。")
        return key
    if not EMBEDDED:
        # A production database without a configured key would sign sessions with a throwaway value.
        raise ImproperlyConfigured(
            "生产模式（已设置 SHEQU_DATABASE_URL）必须提供密钥：请设置 SHEQU_SECRET_KEY_FILE（推荐，"
            "指向只有服务账号可读的文件）或 SHEQU_SECRET_KEY。"
        )
    # Embedded default: create a key file once, readable by the owner only.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("SHEQU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("SHEQU_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "huey.contrib.djhuey",
    "captcha",  # django-simple-captcha: images drawn with Pillow on this server, no outside service
    "shequ.core",
    "shequ.org",
    "shequ.registry",
    "shequ.cases",
    "shequ.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shequ.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes last, as its documentation asks, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shequ.urls"
WSGI_APPLICATION = "shequ.wsgi.application"

# Drop-downs written without a template per option (core.renderers).
FORM_RENDERER = "shequ.core.renderers.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shequ.navigation.navigation",
            ],
        },
    }
]

if EMBEDDED:
    (DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "shequ.sqlite3",
            # WAL lets the web server read while the huey consumer writes.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(envstr("SHEQU_DATABASE_URL"), conn_max_age=60)}
    DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): five failures for a username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = envint("SHEQU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "shequ.org.lockout.lockout_response"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or EMBEDDED
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
# Excel uploads (core.excel): a million residents make a 76 MB workbook. Uploads stream to a temporary file,
# so the cap is about disk and patience, not memory; nginx's client_max_body_size must be a little larger
# (docs/deployment.md), so that the platform, not nginx, tells the user in Chinese.
IMPORT_MAX_BYTES = envint("SHEQU_IMPORT_MAX_BYTES", 100 * 1024 * 1024)
# Embedded mode serves files straight from the apps' static folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Sessions and cookies. Secure cookies and HSTS are switched on by SHEQU_HTTPS in production.
HTTPS = envbool("SHEQU_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SECURE_SSL_REDIRECT = HTTPS and envbool("SHEQU_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = envint("SHEQU_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading binds the whole registrable domain (and its subdomains) to HTTPS in browsers for months;
# that is the domain owner's decision, so it is off unless asked for.
SECURE_HSTS_PRELOAD = HTTPS and envbool("SHEQU_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# security.W021 only says that the site is not on the browsers' HSTS preload list; see SECURE_HSTS_PRELOAD
# above for why that stays the operator's choice (SHEQU_HSTS_PRELOAD). Every other deploy check must pass.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Client addresses: how many reverse proxies (nginx) in front of gunicorn append to X-Forwarded-For. With 0
# the peer address is used and a client-sent X-Forwarded-For is ignored; behind one nginx it must be 1,
# or every login would come from 127.0.0.1 and five wrong passwords would lock a user out for everyone.
# SHEQU_HTTPS already means "TLS ends at a proxy in front" (gunicorn is not given certificates), hence 1.
PROXY_COUNT = envint("SHEQU_PROXY_COUNT", 1 if HTTPS else 0)


def _client_ip(request) -> str:
    # One rule for the login lockout (django-axes) and the API throttles (DRF's NUM_PROXIES), so that
    # neither can be dodged by sending a made-up X-Forwarded-For.
    from rest_framework.throttling import BaseThrottle

    return BaseThrottle().get_ident(request)


AXES_CLIENT_IP_CALLABLE = _client_ip

# Content security policy (django-csp): no inline scripts anywhere, every asset from our own origin.
# Swagger UI needs inline styles, which CSP level 3 keeps separate from scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Background jobs: huey on SQLite when embedded, on Redis when SHEQU_REDIS_URL is set.
REDIS_URL = envstr("SHEQU_REDIS_URL")
HUEY_IMMEDIATE = envbool("SHEQU_HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "shequ",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": envint("SHEQU_HUEY_WORKERS", 2), "worker_type": "thread"},
    }
else:
    # SqliteHuey opens its file as soon as the apps load, also with PostgreSQL and no Redis, where nothing
    # else has made the data directory yet.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "shequ",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": envint("SHEQU_HUEY_WORKERS", 1), "worker_type": "thread"},
    }

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Residents reporting without an account (cases.public). Abuse control needs no outside service: reports are
# counted per client address (the address rule of the login lockout, PROXY_COUNT) in the cache; after
# SHEQU_PUBLIC_REPORT_CAPTCHA_AFTER reports within SHEQU_PUBLIC_REPORT_WINDOW seconds the form asks for a
# captcha, and past SHEQU_PUBLIC_REPORT_LIMIT it refuses (429) until the window has passed. The embedded
# cache lives in each gunicorn worker, so there the limits count per worker; Redis (SHEQU_REDIS_URL) makes
# them exact across workers and machines.
PUBLIC_REPORT_WINDOW = envint("SHEQU_PUBLIC_REPORT_WINDOW", 3600)
PUBLIC_REPORT_CAPTCHA_AFTER = envint("SHEQU_PUBLIC_REPORT_CAPTCHA_AFTER", 3)
PUBLIC_REPORT_LIMIT = envint("SHEQU_PUBLIC_REPORT_LIMIT", 20)
# Place searches and page views of the public pages per address and minute (htmx search as one types).
PUBLIC_LOOKUP_LIMIT = envint("SHEQU_PUBLIC_LOOKUP_LIMIT", 120)
# Photos: the largest upload and the longest side of an image Pillow is asked to decode (decompression bombs).
PHOTO_MAX_BYTES = envint("SHEQU_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
PHOTO_MAX_PIXELS = envint("SHEQU_PHOTO_MAX_PIXELS", 40_000_000)
# The captcha: a sum, difference or product of two numbers up to 10 (easy to read on a phone, language-free), drawn offline with Pillow.
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.math_challenge"
CAPTCHA_MATH_CHALLENGE_OPERATOR = "×"
CAPTCHA_IMAGE_SIZE = (120, 44)
CAPTCHA_FONT_SIZE = 30
CAPTCHA_TIMEOUT = 10  # minutes

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",  # tokens stored hashed, shown once
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"token": "10/min"},
    "NUM_PROXIES": PROXY_COUNT,
    "EXCEPTION_HANDLER": "shequ.core.api.exception_handler",
}

# API tokens (django-rest-knox): stored as a hash, shown once; no expiry unless the admin sets one.
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shequ 社区治理平台 API",
    "DESCRIPTION": "静安区社区治理平台的 REST 接口。认证：Authorization: Token <token>，或登录会话。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set used by several fields (a case's stage, and a timeline entry's from/to).
    "ENUM_NAME_OVERRIDES": {"CaseStageEnum": "shequ.cases.choices.Stage"},
}

DJANGO_TABLES2_TEMPLATE = "core/table.html"
DJANGO_TABLES2_PAGE_RANGE = 7

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "filters": {"request_id": {"()": "shequ.core.middleware.RequestIdLogFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": envstr("SHEQU_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every successful login at INFO; lockouts and failures stay visible at WARNING.
        "axes": {"level": "WARNING"},
        # run_huey adds its own handler unless the "huey" logger has one: give it ours, once.
        "huey": {"handlers": ["console"], "level": envstr("SHEQU_LOG_LEVEL", "INFO"), "propagate": False},
    },
}

# The district this deployment governs: its statistical division code is the root of the unit tree.
DISTRICT_CODE = envstr("SHEQU_DISTRICT_CODE", "310106")


def _office_hours(value: str) -> tuple[tuple[datetime.time, datetime.time], ...]:
    """'09:00-12:00,13:30-17:30' -> ((09:00, 12:00), (13:30, 17:30)): ascending, non-overlapping periods."""
    periods = []
    try:
        for item in value.split(","):
            start, end = (datetime.time.fromisoformat(part.strip()) for part in item.split("-"))
            periods.append((start, end))
    except ValueError:
        periods = []
    ordered = bool(periods) and all(start < end for start, end in periods)
    ordered = ordered and all(periods[i][1] <= periods[i + 1][0] for i in range(len(periods) - 1))
    if not ordered:
        raise ImproperlyConfigured(
            f"SHEQU_OFFICE_HOURS={value!r} 格式不对：应为按时间先后排列、互不重叠的时段，如 09:00-12:00,13:30-17:30"
        )
    return tuple(periods)


# Office hours (Asia/Shanghai wall-clock time) of working days: time limits in working hours count only these,
# and a limit in working days ends when the last period of its last day ends (core/workdays.py). The default is
# the common 上午 9:00–12:00、下午 13:30–17:30 of a Shanghai district office; a deployment sets its published hours.
OFFICE_HOURS = _office_hours(envstr("SHEQU_OFFICE_HOURS", "09:00-12:00,13:30-17:30"))
