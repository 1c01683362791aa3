"""Datasette metadata for researchers: titles, the full-text table and canned queries.

``metadata.yml`` is written for a database file named ``grayscan.db``; Datasette keys metadata by
the file's stem, so ``metadata_yaml(name)`` re-keys it for another file name.
"""

from __future__ import annotations

from importlib import resources

import yaml

DEFAULT_NAME = "grayscan"


def metadata(name: str = DEFAULT_NAME) -> dict:
    """The metadata as a dict, its database section keyed by ``name``."""
    data = yaml.safe_load(resources.files(__package__).joinpath("metadata.yml").read_text(encoding="utf-8"))
    data["databases"] = {name: data["databases"][DEFAULT_NAME]}
    return data


def metadata_yaml(name: str = DEFAULT_NAME) -> str:
    return yaml.safe_dump(metadata(name), allow_unicode=True, sort_keys=False, width=120)
