"""judgeanything-artifact: the ``artifact`` modality plugin. HTML / SVG / JS artifacts rendered in headless
Chromium (Playwright, network off, time-limited) into timed screenshots plus their code; an ArtifactsBench
loader (``benchmark=artifactsbench``); and the ``artifact_defects`` probe family (defects known by
construction), registered through judgeanything's entry-point groups."""

from judgeanything_artifact.encoder import ArtifactEncoder
from judgeanything_artifact.render import Interaction, Renderer, RenderError, RenderSpec

__all__ = ["ArtifactEncoder", "Interaction", "RenderError", "RenderSpec", "Renderer"]
