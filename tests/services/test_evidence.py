"""Evidence uploads: judged by their bytes, cleaned of location data, stored safely, all-or-nothing."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.exceptions import InvalidInput
from portal.extensions import db
from portal.models import Attachment, Ticket
from portal.services import evidence, tickets
from tests.factories import NOW, PDF, jpeg_with_gps, wages


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "拍摄地点：天河区石牌街道")
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def stored_files(app) -> list[str]:
    return sorted(p.name for p in evidence.Path(app.config["UPLOAD_DIR"]).iterdir()) if evidence.Path(
        app.config["UPLOAD_DIR"]).exists() else []


def test_photos_lose_their_location_and_keep_their_orientation(app, ctx):
    receipt = tickets.submit(wages(), token="t", now=NOW, uploads=[
        evidence.Upload("IMG_0001.jpg", jpeg_with_gps()), evidence.Upload("截图.png", png_with_text()),
        evidence.Upload("../../工伤证明.pdf", PDF)])
    files = db.session.scalars(select(Attachment).where(Attachment.ticket_id == receipt.ticket.id)).all()
    assert [f.original_name for f in files] == ["IMG_0001.jpg", "截图.png", "工伤证明.pdf"]
    assert [f.content_type for f in files] == ["image/jpeg", "image/png", "application/pdf"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", f.stored_name) for f in files)
    assert "static" not in app.config["UPLOAD_DIR"]
    with Image.open(evidence.path_of(files[0].stored_name)) as photo:
        assert dict(photo.getexif()) == {} and photo.size == (20, 40)  # rotated upright, EXIF gone
    with Image.open(evidence.path_of(files[1].stored_name)) as shot:
        assert "Comment" not in shot.info
    assert evidence.path_of(files[2].stored_name).read_bytes() == PDF
    assert files[0].event_id == receipt.ticket.events[0].id


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("uploads", "fragment"), [
    ([evidence.Upload("photo.jpg", b"<html><script>alert(1)</script></html>")], "photo.jpg"),
    ([evidence.Upload("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')], "logo.svg"),
    ([evidence.Upload(f"{n}.pdf", PDF) for n in range(6)], "5"),
    ([evidence.Upload("big.pdf", b"%PDF-" + b"0" * evidence.MAX_BYTES)], "10 MB"),
    ([evidence.Upload("empty.jpg", b"")], "empty.jpg"),
    ([evidence.Upload("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 50)], "broken.jpg"),
    ([evidence.Upload("bomb.png", _bomb())], "bomb.png"),
    ([evidence.Upload("nul\x00.jpg\x01", b"GIF89a")], "nul.jpg"),
])
def test_files_that_are_not_what_they_claim_are_refused_and_nothing_is_kept(app, ctx, uploads, fragment):
    with pytest.raises(InvalidInput) as error:
        tickets.submit(wages(), token="t", now=NOW, uploads=uploads)
    assert fragment in str(error.value.fields["evidence"])
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd.jpg", "passwd.jpg"), ("C:\\Users\\王\\证明.pdf", "证明.pdf"), ("a\r\nb.pdf", "ab.pdf"),
    ("", "file"), ("...", "file"),
])
def test_original_names_are_kept_only_as_safe_metadata(raw, shown):
    assert evidence.safe_name(raw) == shown


def test_stored_names_cannot_point_elsewhere(app, ctx):
    for name in ("../secret_key", "a" * 32 + "/x", "ABCDEF" * 6):
        with pytest.raises(ValueError):
            evidence.path_of(name)


def test_a_failed_write_keeps_neither_ticket_nor_files(app, ctx, monkeypatch):
    real_write, calls = evidence.write, []

    def flaky(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        real_write(path, data)

    monkeypatch.setattr(evidence, "write", flaky)
    with pytest.raises(OSError):
        tickets.submit(wages(), token="t", now=NOW, uploads=[evidence.Upload("a.pdf", PDF),
                                                             evidence.Upload("b.pdf", PDF)])
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert stored_files(app) == []


def test_a_failed_commit_removes_the_files(app, ctx, monkeypatch):
    def broken_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        tickets.submit(wages(), token="t", now=NOW, uploads=[evidence.Upload("a.pdf", PDF)])
    monkeypatch.undo()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert stored_files(app) == []


def test_a_retried_submission_keeps_only_the_first_files(app, ctx):
    first = tickets.submit(wages(), token="t", now=NOW, uploads=[evidence.Upload("a.pdf", PDF)])
    again = tickets.submit(wages(), token="t", now=NOW, uploads=[evidence.Upload("a.pdf", PDF)])
    assert again.ticket.id == first.ticket.id and len(stored_files(app)) == 1


def test_the_worker_can_add_evidence_later(app, ctx):
    ticket = tickets.submit(wages(), token="t", now=NOW).ticket
    photo = evidence.Upload("工资条.jpg", jpeg_with_gps())
    ticket = tickets.take("add_information", ticket, None, NOW, text="补充工资条照片", uploads=[photo])
    assert [a.original_name for a in ticket.events[-1].attachments] == ["工资条.jpg"]
