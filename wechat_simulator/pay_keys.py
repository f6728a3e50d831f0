"""WeChat Pay's keys for the simulated merchant: generated once, then read back.

Two sides, as in life. The merchant's folder holds what a merchant downloads from the WeChat
Pay console: its API private key (apiclient_key.pem), WeChat Pay's platform public key
(pub_key.pem) and the ids (merchant.json: mchid, apiv3_key, cert_serial_no, public_key_id).
WeChat's folder (simulator_dir / "pay") holds the other halves: the platform private key, the
merchant's public key and the same ids.

A lock file serialises provisioning between processes; every file is replaced atomically and
the two merchant.json are written last, so a crash half-way leaves a set that is regenerated.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIMULATOR_PAY_MCHID = "1900000109"

MERCHANT_KEY = "apiclient_key.pem"
PLATFORM_PUBLIC_KEY = "pub_key.pem"
IDS = "merchant.json"
PLATFORM_PRIVATE_KEY = "platform_private_key.pem"
MERCHANT_PUBLIC_KEY = "merchant_public_key.pem"
_LOCK = ".pay.lock"
_ID_FIELDS = ("mchid", "apiv3_key", "cert_serial_no", "public_key_id")


@dataclass(frozen=True)
class MerchantCredentials:
    mchid: str
    apiv3_key: str  # 32 ASCII letters/digits
    cert_serial_no: str  # the merchant API certificate's serial: 40 upper-case hex chars
    private_key_path: Path  # merchant private key, PEM PKCS8 ("-----BEGIN PRIVATE KEY-----")
    public_key_id: str  # "PUB_KEY_ID_" + 22 digits: id of WeChat Pay's platform public key
    public_key_path: Path  # WeChat Pay platform public key, PEM SubjectPublicKeyInfo


@dataclass(frozen=True)
class PlatformKeys:
    """WeChat's side: what the simulator signs with and checks the merchant's signatures by."""

    mchid: str
    apiv3_key: str
    cert_serial_no: str
    public_key_id: str
    platform_private_key: rsa.RSAPrivateKey
    merchant_public_key: rsa.RSAPublicKey


def provision_merchant(simulator_dir: Path, merchant_dir: Path) -> MerchantCredentials:
    """Idempotent: first call generates 2048-bit RSA keys and ids, later calls (also from another
    process at the same moment) read the same ones back."""
    simulator_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private keys live here
    with _locked(simulator_dir, exclusive=True):
        ids = _consistent_ids(simulator_dir / "pay", merchant_dir)
        if ids is None:
            ids = _generate(simulator_dir / "pay", merchant_dir)
    return MerchantCredentials(
        mchid=ids["mchid"],
        apiv3_key=ids["apiv3_key"],
        cert_serial_no=ids["cert_serial_no"],
        private_key_path=merchant_dir / MERCHANT_KEY,
        public_key_id=ids["public_key_id"],
        public_key_path=merchant_dir / PLATFORM_PUBLIC_KEY,
    )


def load_platform(simulator_dir: Path) -> PlatformKeys:
    """WeChat's side of keys provisioned before (by provision_merchant)."""
    pay_dir = simulator_dir / "pay"
    with _locked(simulator_dir, exclusive=False):
        ids = _read_ids(pay_dir / IDS)
        if ids is None:
            raise FileNotFoundError(f"no WeChat Pay keys in {pay_dir}: call provision_merchant first")
        private = serialization.load_pem_private_key((pay_dir / PLATFORM_PRIVATE_KEY).read_bytes(), None)
        public = serialization.load_pem_public_key((pay_dir / MERCHANT_PUBLIC_KEY).read_bytes())
    if not isinstance(private, rsa.RSAPrivateKey) or not isinstance(public, rsa.RSAPublicKey):
        raise ValueError(f"the WeChat Pay keys in {pay_dir} are not RSA keys")
    return PlatformKeys(
        mchid=ids["mchid"],
        apiv3_key=ids["apiv3_key"],
        cert_serial_no=ids["cert_serial_no"],
        public_key_id=ids["public_key_id"],
        platform_private_key=private,
        merchant_public_key=public,
    )


@contextmanager
def _locked(simulator_dir: Path, *, exclusive: bool) -> Iterator[None]:
    fd = os.open(simulator_dir / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _consistent_ids(pay_dir: Path, merchant_dir: Path) -> dict[str, str] | None:
    """The ids when both sides are complete and agree; None when they must be (re)made."""
    ours, theirs = _read_ids(pay_dir / IDS), _read_ids(merchant_dir / IDS)
    if ours is None or ours != theirs:
        return None
    files = (pay_dir / PLATFORM_PRIVATE_KEY, pay_dir / MERCHANT_PUBLIC_KEY)
    files += (merchant_dir / MERCHANT_KEY, merchant_dir / PLATFORM_PUBLIC_KEY)
    return ours if all(path.is_file() for path in files) else None


def _read_ids(path: Path) -> dict[str, str] | None:
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(ids, dict) or not all(isinstance(ids.get(name), str) for name in _ID_FIELDS):
        return None
    return {name: ids[name] for name in _ID_FIELDS}


def _generate(pay_dir: Path, merchant_dir: Path) -> dict[str, str]:
    merchant_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alphabet, digits = string.ascii_letters + string.digits, string.digits
    ids = {
        "mchid": SIMULATOR_PAY_MCHID,
        "apiv3_key": "".join(secrets.choice(alphabet) for _ in range(32)),
        "cert_serial_no": secrets.token_hex(20).upper(),
        "public_key_id": "PUB_KEY_ID_01"
        + SIMULATOR_PAY_MCHID
        + "".join(secrets.choice(digits) for _ in range(10)),
    }
    for folder in (pay_dir, merchant_dir):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(merchant_dir / MERCHANT_KEY, _private_pem(merchant_key))
    _write(merchant_dir / PLATFORM_PUBLIC_KEY, _public_pem(platform_key.public_key()))
    _write(pay_dir / PLATFORM_PRIVATE_KEY, _private_pem(platform_key))
    _write(pay_dir / MERCHANT_PUBLIC_KEY, _public_pem(merchant_key.public_key()))
    text = json.dumps(ids, indent=2).encode() + b"\n"
    _write(pay_dir / IDS, text)  # the two ids files last: they say the set is complete
    _write(merchant_dir / IDS, text)
    return ids


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _write(path: Path, data: bytes) -> None:
    """Write beside the file (mode 600), then replace it in one step."""
    temporary = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
