"""judgeanything-document: the ``document`` modality, a plugin that renders text and Markdown files to
a page image, so any image-capable judge can read a document response."""

from judgeanything_document.encoder import DocumentEncoder, render_page

__all__ = ["DocumentEncoder", "render_page"]
