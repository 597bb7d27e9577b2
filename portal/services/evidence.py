"""Evidence files: judged by their bytes, cleaned, and stored under random names outside static/.

A file's name and declared type are the sender's claims; only its first bytes and a successful decode
count. Photos are re-encoded, which drops EXIF (and with it the GPS position a phone writes) after
applying the orientation it recorded. Originals' names are kept only as metadata.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from portal.i18n import lazy_gettext as _l
from portal.settings import setting

MAX_FILES = 5
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; a larger "image" is a decompression bomb
SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}
STORED_NAME = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def safe_name(filename: str) -> str:
    """The name to show staff: no directories, no control characters, Chinese kept (工伤证明.pdf)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    return name[:120] or "file"


def _clean_image(data: bytes, content_type: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValueError("too many pixels")
            image.load()
            cleaned = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if content_type == "image/jpeg":
                cleaned.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
            else:
                cleaned.save(out, "PNG", optimize=True)
            return out.getvalue()


def prepare(uploads: list[Upload]) -> tuple[list[tuple[Upload, str, bytes]], dict[str, str]]:
    """Check every file and clean the images: ([(upload, content_type, bytes to store)], problems)."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > MAX_FILES:
        return [], {"evidence": _l("Attach at most %(num)d files.", num=MAX_FILES)}
    ready, problems = [], {}
    for upload in uploads:
        name = safe_name(upload.filename)
        content_type = sniff(upload.data)
        if not upload.data:
            problems["evidence"] = _l("%(name)s is empty.", name=name)
        elif len(upload.data) > MAX_BYTES:
            problems["evidence"] = _l("%(name)s is larger than 10 MB.", name=name)
        elif content_type is None:
            problems["evidence"] = _l("%(name)s is not a photo (JPEG, PNG) or a PDF.", name=name)
        else:
            try:
                data = upload.data if content_type == "application/pdf" else _clean_image(upload.data, content_type)
            except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError,
                    Image.DecompressionBombWarning, SyntaxError):
                problems["evidence"] = _l("%(name)s could not be read as a photo.", name=name)
                continue
            ready.append((upload, content_type, data))
    return ([] if problems else ready), problems


def directory() -> Path:
    path = Path(setting("UPLOAD_DIR"))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store(ready: list[tuple[Upload, str, bytes]]) -> list[StoredFile]:
    """Write the files under random names; if any write fails, none are kept."""
    stored: list[StoredFile] = []
    try:
        for upload, content_type, data in ready:
            name = secrets.token_hex(16)
            write(directory() / name, data)
            stored.append(StoredFile(name, safe_name(upload.filename), content_type, len(data)))
    except BaseException:
        remove(stored)
        raise
    return stored


def write(path: Path, data: bytes) -> None:
    """Through a temporary file and a rename, so a crash never leaves half a file under the final name."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove(stored: list[StoredFile]) -> None:
    for item in stored:
        (directory() / item.stored_name).unlink(missing_ok=True)


def path_of(stored_name: str) -> Path:
    if not STORED_NAME.fullmatch(stored_name or ""):
        raise ValueError("not a stored file name")
    return directory() / stored_name
