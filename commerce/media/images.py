"""What an uploaded file really is, judged by its first bytes: never by its name or the type
the browser claimed (an SVG or an HTML page renamed .jpg is not an image we serve)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.media.errors import MediaError


@dataclass(frozen=True)
class ImageKind:
    content_type: str
    extension: str


JPEG = ImageKind("image/jpeg", "jpg")
PNG = ImageKind("image/png", "png")
GIF = ImageKind("image/gif", "gif")
WEBP = ImageKind("image/webp", "webp")


def sniff(data: bytes) -> ImageKind | None:
    """The image format of these bytes, or None when they are not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def check_image(data: bytes, *, max_bytes: int) -> ImageKind:
    """The kind of an acceptable image; a clear refusal otherwise."""
    if not data:
        raise MediaError.EMPTY.error()
    if len(data) > max_bytes:
        raise MediaError.TOO_LARGE.error(f"图片不能超过 {_size_text(max_bytes)}")
    kind = sniff(data)
    if kind is None:
        raise MediaError.UNSUPPORTED_TYPE.error()
    return kind


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(size // 1024, 1)} KB"
