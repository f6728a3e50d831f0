"""Image storage: the local folder, and a real S3-compatible server (moto's, over HTTP) with
the same code the app uses against a bucket."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import zlib

import pytest
from aiobotocore.session import get_session
from aiohttp import ClientSession
from moto.server import ThreadedMotoServer

from commerce.errors import CommerceError
from commerce.media.services import store_product_image
from commerce.media.storage import local_media_root, open_storage

GIF = (  # a real 1x1 GIF
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

PUBLIC_READ = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shop-media/*",
            }
        ],
    }
)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def _refusal(settings, data: bytes) -> str:
    async with open_storage(settings) as storage:
        with pytest.raises(CommerceError) as caught:
            await store_product_image(storage=storage, data=data, max_bytes=settings.media_max_bytes)
    return caught.value.code


async def test_local_storage_keeps_images_under_their_hash(settings):
    png = _png()
    async with open_storage(settings) as storage:
        url = await store_product_image(storage=storage, data=png, max_bytes=settings.media_max_bytes)
    digest = hashlib.sha256(png).hexdigest()
    assert url == f"{settings.public_base_url}/media/products/{digest[:2]}/{digest}.png"
    assert (local_media_root(settings) / "products" / digest[:2] / f"{digest}.png").read_bytes() == png


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "unsupported_image_type"),
        (b"<!doctype html><script>alert(1)</script>", "unsupported_image_type"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "unsupported_image_type"),  # RIFF, but not WebP
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1024 * 1024), "image_too_large"),
    ],
)
async def test_what_is_not_an_acceptable_image_is_refused_and_not_stored(settings, data, code):
    assert await _refusal(settings, data) == code
    assert not list(local_media_root(settings).rglob("*.*"))


@pytest.fixture
def s3_server():
    """moto's S3 as a real HTTP server on this machine."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


async def test_an_s3_bucket_stores_images_and_serves_them_at_their_url(settings, s3_server):
    # given a bucket on an S3-compatible server
    bucket_settings = settings.model_copy(
        update={
            "media_s3_endpoint": s3_server,
            "media_s3_bucket": "shop-media",
            "media_s3_access_key": "test-access-key",
            "media_s3_secret_key": "test-secret-key",
            "media_s3_region": "us-east-1",
        }
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test-access-key",
        aws_secret_access_key="test-secret-key",
    ) as admin:
        await admin.create_bucket(Bucket="shop-media")
        # Shoppers load images anonymously: the operator lets anyone read the bucket.
        await admin.put_bucket_policy(Bucket="shop-media", Policy=PUBLIC_READ)
    # when an image is stored
    async with open_storage(bucket_settings) as storage:
        url = await store_product_image(storage=storage, data=GIF, max_bytes=bucket_settings.media_max_bytes)
    # then it is in the bucket under its hash, with its type, and loads from its public URL
    digest = hashlib.sha256(GIF).hexdigest()
    assert url == f"{s3_server}/shop-media/products/{digest[:2]}/{digest}.gif"
    async with ClientSession() as http, http.get(url) as response:
        assert response.status == 200 and await response.read() == GIF
        assert response.headers["Content-Type"] == "image/gif"
    # nothing was written locally, and a bad file never reaches the bucket
    assert not list(local_media_root(settings).rglob("*.*"))
    assert await _refusal(bucket_settings, b"GIF87 but not really") == "unsupported_image_type"


async def test_an_unreachable_or_missing_bucket_is_a_clear_failure(settings, s3_server):
    missing = settings.model_copy(
        update={
            "media_s3_endpoint": s3_server,
            "media_s3_bucket": "no-such-bucket",
            "media_s3_access_key": "k",
            "media_s3_secret_key": "s",
        }
    )
    assert await _refusal(missing, GIF) == "image_storage_failed"
