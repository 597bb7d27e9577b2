"""QR codes as inline SVG (qrcode's path image needs no Pillow), for station posters and the member card."""

from __future__ import annotations

import re

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def svg(data: str, label: str = "") -> Markup:
    """A scalable QR code of `data`, error correction M (a poster may get a little dirty), sized by CSS.
    `label` becomes its accessible name; without one it is hidden from screen readers."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    text = image.to_string(encoding="unicode")
    text = re.sub(r'\swidth="[^"]*"\sheight="[^"]*"', "", text, count=1)  # the page decides the size
    a11y = f'role="img" aria-label="{Markup.escape(label)}"' if label else 'aria-hidden="true"'
    # the SVG is drawn here, by qrcode, from path data only; the one piece of text, the label, is escaped
    return Markup(text.replace("<svg ", f'<svg class="qr" {a11y} ', 1))  # noqa: S704
