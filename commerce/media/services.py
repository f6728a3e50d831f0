"""Storing product images."""

from __future__ import annotations

import hashlib

from commerce.media.images import check_image
from commerce.media.storage import MediaStorage

PRODUCT_PREFIX = "products"


async def store_product_image(*, storage: MediaStorage, data: bytes, max_bytes: int) -> str:
    """Check an uploaded image by its content and size, store it under the hash of its bytes
    (never the uploader's file name), and return its public URL."""
    kind = check_image(data, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    key = f"{PRODUCT_PREFIX}/{digest[:2]}/{digest}.{kind.extension}"
    return await storage.put(key=key, data=data, content_type=kind.content_type)
