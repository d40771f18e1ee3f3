"""Test environment defaults, loaded as a pytest plugin (-p tests.testenv) so that they are set before
pytest-django reads the settings."""

import os
import tempfile

os.environ.setdefault("SHEQU_SECRET_KEY", "test-only-secret")
os.environ.setdefault("SHEQU_HUEY_IMMEDIATE", "true")
os.environ.setdefault("SHEQU_DATA_DIR", tempfile.mkdtemp(prefix="shequ-test-"))
# WhiteNoise warns at start-up when STATIC_ROOT does not exist (tests do not run collectstatic).
os.makedirs(os.path.join(os.environ["SHEQU_DATA_DIR"], "static"), exist_ok=True)
