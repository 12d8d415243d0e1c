"""An account's media library: images for bulletins and its logo.

Only PNG, JPEG, GIF and WebP are taken (recognised by their first bytes, never by the name or the
browser's word; no SVG, which can carry script), at most MAX_BYTES. Each is stored once per
content under the data dir and served at /media/<sha256>.<ext> with a year of caching: the
address names the content, so it never changes and works in mail.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse

from tidings.accounts.models import EXTENSIONS, Account, MediaFile

MAX_BYTES = 5 * 1024 * 1024


def media_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "media"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sniff(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of an image we take; raise ValidationError otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", 0, 0
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", *_jpeg_size(data)
    raise ValidationError("Only PNG, JPEG, GIF and WebP images can be uploaded.")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            break
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return 0, 0


def store(account: Account, upload: UploadedFile) -> MediaFile:
    """Keep an uploaded image in the account's library (the same bytes once)."""
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(f"An image may be {MAX_BYTES // 1024 // 1024} MB at most.")
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(f"An image may be {MAX_BYTES // 1024 // 1024} MB at most.")
    content_type, width, height = sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    path = media_dir() / f"{digest}.{EXTENSIONS[content_type]}"
    if not path.exists():
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # whole or not at all
    name = Path(upload.name or "image").name[:200]
    with transaction.atomic():
        media, _ = MediaFile.objects.get_or_create(
            account=account,
            digest=digest,
            defaults={"name": name, "content_type": content_type, "size": len(data),
                      "width": width, "height": height},
        )  # fmt: skip
    return media


def media_url(media: MediaFile) -> str:
    """The image's absolute address (for mail and for pages)."""
    return settings.BASE_URL + reverse("media", args=[media.filename])


def path_of(filename: str) -> Path | None:
    """The stored file for /media/<filename>, or None (never a path outside the library)."""
    digest, _, extension = filename.partition(".")
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        return None
    if extension not in EXTENSIONS.values():
        return None
    path = media_dir() / f"{digest}.{extension}"
    return path if path.exists() else None
