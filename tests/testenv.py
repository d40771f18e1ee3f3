"""Test environment defaults, loaded as a pytest plugin (-p tests.testenv) so that they are set before
pytest-django reads the settings."""

import json
import os
import secrets
import tempfile

from cryptography.fernet import Fernet

os.environ.setdefault("SHEQU_SECRET_KEY", "test-only-secret")
os.environ.setdefault("SHEQU_HUEY_IMMEDIATE", "true")
os.environ.setdefault("SHEQU_DATA_DIR", tempfile.mkdtemp(prefix="shequ-test-"))
# WhiteNoise warns at start-up when STATIC_ROOT does not exist (tests do not run collectstatic).
os.makedirs(os.path.join(os.environ["SHEQU_DATA_DIR"], "static"), exist_ok=True)

# A personal-data key file of the tests' own, as production would have one (SHEQU_PERSONAL_DATA_KEY_FILE).
if "SHEQU_PERSONAL_DATA_KEY_FILE" not in os.environ:
    key_file = os.path.join(os.environ["SHEQU_DATA_DIR"], "personal_data.key")
    with open(key_file, "w") as handle:
        json.dump(
            {"encryption_keys": [Fernet.generate_key().decode()], "index_key": secrets.token_hex(32)}, handle
        )
    os.environ["SHEQU_PERSONAL_DATA_KEY_FILE"] = key_file
