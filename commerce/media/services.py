"""Storing product images."""

from __future__ import annotations

import hashlib

from commerce.media.images import check_image
from commerce.media.storage import MediaStorage

PRODUCT_PREFIX = "products"
AFTERSALE_PREFIX = "aftersales"
LEADER_PREFIX = "leaders"


async def store_product_image(*, storage: MediaStorage, data: bytes, max_bytes: int) -> str:
    """Check an uploaded image by its content and size, store it under the hash of its bytes
    (never the uploader's file name), and return its public URL."""
    return await _store(storage, PRODUCT_PREFIX, data, max_bytes)


async def store_aftersale_photo(*, storage: MediaStorage, data: bytes, max_bytes: int) -> str:
    """A shopper's after-sales evidence photo, checked and stored as a product image is."""
    return await _store(storage, AFTERSALE_PREFIX, data, max_bytes)


async def store_leader_photo(*, storage: MediaStorage, data: bytes, max_bytes: int) -> str:
    """A leader applicant's photo of their pickup point, checked and stored as a product image is."""
    return await _store(storage, LEADER_PREFIX, data, max_bytes)


async def _store(storage: MediaStorage, prefix: str, data: bytes, max_bytes: int) -> str:
    kind = check_image(data, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    key = f"{prefix}/{digest[:2]}/{digest}.{kind.extension}"
    return await storage.put(key=key, data=data, content_type=kind.content_type)
