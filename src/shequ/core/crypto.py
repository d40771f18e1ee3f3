"""Personal data at rest (PIPL art. 51: encryption and de-identification as security measures; X2).

ID numbers and phone numbers are stored encrypted with Fernet (cryptography's AES-128-CBC + HMAC-SHA256
tokens) under a key kept outside the database, plus an HMAC-SHA256 blind index for exact lookup and
de-duplication, plus a masked form for display. The key file is JSON:

    {"encryption_keys": ["<newest Fernet key>", "<older key>", ...], "index_key": "<hex>"}

The first encryption key encrypts; all of them decrypt (MultiFernet), which is what lets
`shequ keys rotate` re-encrypt in batches and resume after an interruption. The index key never
rotates with them: a new index key would need every value re-indexed, which rotation does not do.

The embedded default creates the file under SHEQU_DATA_DIR on first use, mode 0600. Production
(a database URL given) refuses to start without SHEQU_PERSONAL_DATA_KEY_FILE."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _


class PersonalDataKeyError(ImproperlyConfigured):
    pass


def key_file_path() -> Path:
    configured = os.environ.get("SHEQU_PERSONAL_DATA_KEY_FILE")
    if configured:
        return Path(configured)
    if not settings.EMBEDDED:
        raise PersonalDataKeyError(
            _("生产模式必须设置 SHEQU_PERSONAL_DATA_KEY_FILE（个人信息加密密钥文件，存放在数据库之外）。")
        )
    return Path(settings.DATA_DIR) / "personal_data.key"


def _write_keyring(path: Path, keyring: dict) -> None:
    """Write atomically, owner-only: a half-written key file would lose every encrypted value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keyring, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def create_key_file(path: Path) -> None:
    """A new key file: one encryption key and the blind-index key (`shequ keys init`)."""
    _write_keyring(
        path, {"encryption_keys": [Fernet.generate_key().decode()], "index_key": secrets.token_hex(32)}
    )


def load_keyring(create: bool = True) -> dict:
    path = key_file_path()
    if not path.exists():
        if not (create and settings.EMBEDDED and not os.environ.get("SHEQU_PERSONAL_DATA_KEY_FILE")):
            raise PersonalDataKeyError(
                _("个人信息加密密钥文件不存在：%(path)s（可用 `shequ keys init` 创建）") % {"path": path}
            )
        create_key_file(path)
    keyring = json.loads(path.read_text())
    if not keyring.get("encryption_keys") or not keyring.get("index_key"):
        raise PersonalDataKeyError(_("个人信息加密密钥文件格式错误：%(path)s") % {"path": path})
    return keyring


@lru_cache(maxsize=1)
def _cipher_and_index_key() -> tuple[MultiFernet, hmac.HMAC]:
    """The ciphers of the key ring, and an HMAC keyed with the index key that each blind index copies
    (keying it anew for every value was most of an index's cost)."""
    keyring = load_keyring()
    cipher = MultiFernet([Fernet(key.encode()) for key in keyring["encryption_keys"]])
    return cipher, hmac.new(bytes.fromhex(keyring["index_key"]), digestmod=hashlib.sha256)


def reload_keys() -> None:
    """Forget the cached keys (after a rotation step changed the key file)."""
    _cipher_and_index_key.cache_clear()


def encrypt(value: str) -> str:
    cipher, _index_key = _cipher_and_index_key()
    return cipher.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    cipher, _index_key = _cipher_and_index_key()
    try:
        return cipher.decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise PersonalDataKeyError(_("无法解密：密钥文件与数据不匹配。")) from error


def rotate_token(token: str) -> str:
    """Re-encrypt under the newest key (decrypts with any key of the ring)."""
    cipher, _index_key = _cipher_and_index_key()
    return cipher.rotate(token.encode()).decode()


def blind_index(value: str, purpose: str) -> str:
    """HMAC-SHA256 of the normalised value; `purpose` separates ID numbers from phones, so equal
    strings in different fields do not share an index value."""
    _cipher, keyed = _cipher_and_index_key()
    index = keyed.copy()
    index.update(f"{purpose}:{value}".encode())
    return index.hexdigest()


def check_keys() -> None:
    """Raises PersonalDataKeyError when there is no usable key file (wsgi.py calls it at start-up)."""
    load_keyring(create=settings.EMBEDDED)
    reload_keys()


def check_personal_data_key(app_configs=None, **kwargs):
    """System check shequ.E001: production needs its personal-data key file."""
    from django.core import checks

    if settings.EMBEDDED:
        return []
    try:
        check_keys()
    except (PersonalDataKeyError, OSError, ValueError) as error:
        return [
            checks.Error(
                str(error),
                hint=_("用 `shequ keys init` 创建密钥文件，并设置 SHEQU_PERSONAL_DATA_KEY_FILE。"),
                id="shequ.E001",
            )
        ]
    return []


def add_new_primary_key() -> None:
    """Rotation step 1: a new key goes first in the ring; the old ones stay until step 3."""
    path = key_file_path()
    keyring = load_keyring(create=False)
    keyring["encryption_keys"].insert(0, Fernet.generate_key().decode())
    _write_keyring(path, keyring)
    reload_keys()


def retire_old_keys() -> None:
    """Rotation step 3, once every value is re-encrypted: only the newest key remains."""
    path = key_file_path()
    keyring = load_keyring(create=False)
    keyring["encryption_keys"] = keyring["encryption_keys"][:1]
    _write_keyring(path, keyring)
    reload_keys()


def primary_key_id() -> str:
    """A short fingerprint of the encrypting key, to tell rotations apart without showing the key."""
    keyring = load_keyring(create=False)
    return hashlib.sha256(keyring["encryption_keys"][0].encode()).hexdigest()[:12]
