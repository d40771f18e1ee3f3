"""Personal data at rest (PIPL art. 51: encryption and de-identification as security measures; X2).

ID numbers and phone numbers are stored encrypted under a key kept outside the database, plus an
HMAC-SHA256 blind index for exact lookup and de-duplication, plus a masked form for display. The key
file is JSON:

    {"encryption_keys": ["<newest key>", "<older key>", ...], "index_key": "<hex>"}

Each encryption key is 32 random bytes in URL-safe base64 (the form `Fernet.generate_key()` gives). The
first key encrypts; all of them decrypt, which is what lets `shequ keys rotate` re-encrypt in batches and
resume after an interruption. The index key never rotates with them: a new index key would need every
value re-indexed, which rotation does not do.

Ciphertexts are AES-256-GCM tokens (see `encrypt`). The first tokens were Fernet's (AES-128-CBC +
HMAC-SHA256); they still decrypt, and `shequ keys rotate` rewrites them in the current form. Fernet
cost 25 µs a value against about 3 µs: 185,000 values, the numbers of 100,000 residents, took 4–5 s of
an import (docs/performance.md).

The embedded default creates the file under SHEQU_DATA_DIR on first use, mode 0600. Production
(a database URL given) refuses to start without SHEQU_PERSONAL_DATA_KEY_FILE."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


# A token: URL-safe base64 of VERSION, the key's 4-byte id, a 12-byte nonce, then the ciphertext with its
# 16-byte tag. A Fernet token's first byte is 0x80, so the two forms never meet.
VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12  # 96 bits, random: NIST SP 800-38D §8.2.2; at most 2^32 encryptions per key (§8.3)
HKDF_INFO = b"shequ personal data AES-256-GCM"


@dataclass(frozen=True)
class _Keys:
    encrypting_id: bytes
    by_id: dict[bytes, AESGCM]
    legacy: MultiFernet  # the same keys as Fernet keys, for tokens written before AES-GCM
    index_key: hmac.HMAC


def _aes_key(key: str) -> bytes:
    """The AES-256 key of a key-file entry: HKDF-SHA256 (RFC 5869) of its 32 bytes, so that the bytes
    Fernet used for its own two keys are never used as they are by another cipher."""
    material = base64.urlsafe_b64decode(key.encode())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(material)


@lru_cache(maxsize=1)
def _keys() -> _Keys:
    """The ciphers of the key ring, and an HMAC keyed with the index key that each blind index copies
    (keying it anew for every value was most of an index's cost)."""
    keyring = load_keyring()
    by_id = {}
    for key in keyring["encryption_keys"]:
        aes_key = _aes_key(key)
        by_id.setdefault(hashlib.sha256(aes_key).digest()[:KEY_ID_BYTES], AESGCM(aes_key))
    return _Keys(
        encrypting_id=next(iter(by_id)),
        by_id=by_id,
        legacy=MultiFernet([Fernet(key.encode()) for key in keyring["encryption_keys"]]),
        index_key=hmac.new(bytes.fromhex(keyring["index_key"]), digestmod=hashlib.sha256),
    )


def reload_keys() -> None:
    """Forget the cached keys (after a rotation step changed the key file)."""
    _keys.cache_clear()


def encrypt(value: str) -> str:
    keys = _keys()
    nonce = os.urandom(NONCE_BYTES)
    sealed = keys.by_id[keys.encrypting_id].encrypt(nonce, value.encode(), None)
    return base64.urlsafe_b64encode(VERSION + keys.encrypting_id + nonce + sealed).decode()


def decrypt(token: str) -> str:
    keys = _keys()
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        if raw[:1] != VERSION:
            return keys.legacy.decrypt(token.encode()).decode()
        key_id = raw[1 : 1 + KEY_ID_BYTES]
        nonce = raw[1 + KEY_ID_BYTES : 1 + KEY_ID_BYTES + NONCE_BYTES]
        cipher = keys.by_id.get(key_id)
        if cipher is None:
            raise InvalidTag
        return cipher.decrypt(nonce, raw[1 + KEY_ID_BYTES + NONCE_BYTES :], None).decode()
    except (InvalidTag, InvalidToken, binascii.Error, ValueError) as error:
        raise PersonalDataKeyError(_("无法解密：密钥文件与数据不匹配。")) from error


def rotate_token(token: str) -> str:
    """Re-encrypt under the newest key (decrypts with any key of the ring, in either token form)."""
    return encrypt(decrypt(token))


def blind_index(value: str, purpose: str) -> str:
    """HMAC-SHA256 of the normalised value; `purpose` separates ID numbers from phones, so equal
    strings in different fields do not share an index value."""
    index = _keys().index_key.copy()
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
