"""Fixtures shared by the app tests (src/shequ/*/tests) and the cross-cutting ones (tests/)."""

import pytest

from tests.world import build_world


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The demo accounts are created for every test; PBKDF2's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    return build_world()
