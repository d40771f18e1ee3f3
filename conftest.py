"""Fixtures shared by the app tests (src/shequ/*/tests) and the cross-cutting ones (tests/)."""

import pytest
from django.core.cache import cache

from shequ.core import workdays
from tests.world import build_world


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The demo accounts are created for every test; PBKDF2's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # Production mode serves hashed names from collectstatic's manifest; tests render pages without
    # running collectstatic first (tests/test_deployment.py covers the manifest build).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def empty_cache():
    # Rate-limit counters live in the cache, and the working-day calendar keeps the holiday table in a
    # per-process cache: both outlive each test's rolled-back transaction.
    cache.clear()
    workdays.clear_cache()
    yield
    cache.clear()
    workdays.clear_cache()


@pytest.fixture
def world(db):
    return build_world()
