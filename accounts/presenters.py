"""The enrolment QR code, drawn here as SVG: the secret never leaves the portal."""

import qrcode
from qrcode.image.svg import SvgPathImage


def qr_code_svg(data: str) -> str:
    """An inline <svg> (paths and attributes only, no style: the strict CSP holds)."""
    image = qrcode.make(data, image_factory=SvgPathImage, border=2)
    return image.to_string(encoding="unicode")
