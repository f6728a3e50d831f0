"""Where product images live: files in the data folder (served by the app at /media/), or an
S3-compatible bucket (AWS S3, Tencent COS, Aliyun OSS, MinIO...) when one is configured.

Either way a stored image is addressed by a public URL, which is what products keep.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from commerce.config import Settings
from commerce.media.errors import MediaError

log = logging.getLogger(__name__)
# Stored names are content hashes: a URL's bytes never change, so caches may keep them.
IMMUTABLE = "public, max-age=31536000, immutable"


class MediaStorage(Protocol):
    async def put(self, *, key: str, data: bytes, content_type: str) -> str:
        """Store the bytes under the key; the public URL they are served from."""
        ...


def local_media_root(settings: Settings) -> Path:
    """The folder local media is stored in (and served from at /media/)."""
    root = settings.data_dir / "media"
    root.mkdir(parents=True, exist_ok=True)
    return root


def uses_s3(settings: Settings) -> bool:
    return bool(settings.media_s3_endpoint)


class LocalStorage:
    def __init__(self, root: Path, public_base: str) -> None:
        self._root = root.resolve()
        self._public_base = public_base.rstrip("/")

    async def put(self, *, key: str, data: bytes, content_type: str) -> str:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root):  # keys are ours, but never write outside
            raise ValueError(f"media key escapes the media folder: {key!r}")
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as exc:
            log.exception("storing media %s failed", key)
            raise MediaError.STORAGE_FAILED.error() from exc
        return f"{self._public_base}/{key}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class S3Storage:
    """An S3-compatible bucket through aiobotocore (SigV4, path-style addressing, which every
    S3-compatible service understands)."""

    def __init__(self, client: Any, bucket: str, public_base: str) -> None:
        self._client = client
        self._bucket = bucket
        self._public_base = public_base.rstrip("/")

    async def put(self, *, key: str, data: bytes, content_type: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, CacheControl=IMMUTABLE
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("storing media %s in bucket %s failed: %s", key, self._bucket, exc)
            raise MediaError.STORAGE_FAILED.error() from exc
        return f"{self._public_base}/{key}"


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[MediaStorage]:
    """The configured storage, open for the duration of the block."""
    if not uses_s3(settings):
        base = settings.media_public_base or f"{settings.public_base_url.rstrip('/')}/media"
        yield LocalStorage(local_media_root(settings), base)
        return
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    endpoint = settings.media_s3_endpoint.rstrip("/")
    config = AioConfig(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=settings.media_s3_region,
        aws_access_key_id=settings.media_s3_access_key,
        aws_secret_access_key=settings.media_s3_secret_key,
        config=config,
    ) as client:
        base = settings.media_public_base or f"{endpoint}/{settings.media_s3_bucket}"
        yield S3Storage(client, settings.media_s3_bucket, base)
