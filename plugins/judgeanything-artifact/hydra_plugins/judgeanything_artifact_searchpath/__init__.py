"""Hydra finds this plugin's config groups (``benchmark=artifactsbench``, ``modality/artifact.yaml``) through
this search-path plugin: Hydra imports every module under the ``hydra_plugins`` namespace package."""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class ArtifactSearchPathPlugin(SearchPathPlugin):
    """Appends ``pkg://judgeanything_artifact.conf`` to the search path of the ``judgeanything`` app."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="judgeanything-artifact", path="pkg://judgeanything_artifact.conf")
