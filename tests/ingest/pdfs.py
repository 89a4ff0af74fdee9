"""PDFs made for the tests with fpdf2: a printed RO, an image-only scan, garbage."""

from __future__ import annotations

import io
from typing import Any

from fpdf import FPDF
from PIL import Image

from assistant.ingest.pdf_format import render_text


def ro_pdf(*records: dict[str, Any]) -> bytes:
    pdf = FPDF(format="letter")
    pdf.set_font("Helvetica", size=10)
    for record in records:
        pdf.add_page()
        for line in render_text(record).splitlines():
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(picture, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(picture.getvalue()), x=10, y=10, w=100)
    return bytes(pdf.output())
