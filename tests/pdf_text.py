"""The text of a PDF the app rendered, as the tests read it back (pypdf)."""

import io

from pypdf import PdfReader


def text_of(pdf: bytes) -> str:
    """All pages' text; line breaks come from the layout (table cells wrap), so none are kept."""
    reader = PdfReader(io.BytesIO(pdf))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")
