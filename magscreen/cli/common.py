"""What several commands share: the error console and the store named by ``--config`` or ``--db``.

Only light imports here: every command module imports this one when ``magscreen`` starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from magscreen.config import StoreConfig
    from magscreen.store import CampaignStores

__all__ = ["console", "open_stores", "store_config_of"]

#: Messages, progress bars and tables for people go to stderr; data (JSON, CSV) goes to stdout.
console = Console(stderr=True, soft_wrap=True)


def store_config_of(config: Path | None, db: str) -> tuple[StoreConfig, str]:
    """The store a command works on, and where that choice came from (for messages).

    A campaign config's ``store`` section when ``config`` is given, else ``db``: a
    ``mongodb://`` (or ``mongodb+srv://``) URI, or the folder of an embedded store.
    """
    from magscreen.config import StoreConfig, load_config

    if config is not None:
        return load_config(config).store, str(config)
    if db.startswith(("mongodb://", "mongodb+srv://")):
        return StoreConfig(kind="mongodb", uri=db), "--db"
    return StoreConfig(kind="embedded", path=Path(db)), "--db"


def open_stores(config: Path | None, db: str, *, create: bool = True) -> CampaignStores:
    """Stores of :func:`store_config_of`.

    With ``create`` False a missing store is an error that names its path and where it came from
    (commands that only read); with True an embedded store is created (commands that write).
    """
    from magscreen.store import build_stores

    store_config, origin = store_config_of(config, db)
    return build_stores(store_config, create=create, origin=origin)
