"""Maggma stores for campaign documents, built from the ``store`` section of a config.

Two backends:

- **embedded** (default): :class:`SQLiteStore`, one SQLite file under ``./magscreen-db/``; no
  server. maggma's ``MontyStore`` scans every document on each upsert (quadratic in the number of
  documents; see docs/benchmarks.md "Stores"), so the embedded store keeps documents as JSON rows
  indexed by their key and answers any other MongoDB filter with mongomock.
- **mongodb**: maggma ``MongoStore`` from a URI, for clusters.

Collections: ``orderings`` (:class:`~magscreen.schemas.MagneticOrderingDoc`), ``candidates``
(:class:`~magscreen.schemas.CandidateDoc`), ``campaigns`` (:class:`~magscreen.schemas.CampaignDoc`),
``validations`` (:class:`~magscreen.schemas.DFTValidationDoc`) and ``outputs`` (jobflow job outputs,
the docs store of the :class:`jobflow.JobStore`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jobflow import JobStore
from maggma.core import Sort, Store
from maggma.stores import MemoryStore, MongoStore
from mongomock_ng.filtering import filter_applies
from monty.json import MSONable, jsanitize
from pymongo.errors import PyMongoError

from magscreen.config import COLLECTIONS, StoreConfig
from magscreen.errors import InputError, ServiceError

__all__ = ["CampaignStores", "SQLiteStore", "build_stores", "mask_uri"]

DATABASE_FILE = "magscreen.sqlite"


class SQLiteStore(Store):
    """File-backed maggma store: one SQLite table per collection, each document a JSON row.

    Upserts and look-ups by the store's ``key`` (equality or ``$in``) go through an SQLite index,
    so they cost O(log N); any other MongoDB filter, projection or sort loads the rows and is
    answered by mongomock. Each upsert is one SQLite transaction: a killed process leaves whole
    documents only, and several processes may write to one file (SQLite locking).

    Parameters
    ----------
    database_path
        SQLite file; its folder is created on connect.
    collection_name
        Table name.
    key
        Field that identifies a document.
    """

    def __init__(self, database_path: str, collection_name: str, key: str = "task_id", **kwargs) -> None:
        self.database_path = str(database_path)
        self.collection_name = collection_name
        self.kwargs = kwargs
        self._conn: sqlite3.Connection | None = None
        super().__init__(key=key, **kwargs)

    @property
    def name(self) -> str:
        return f"sqlite://{self.database_path}/{self.collection_name}"

    @property
    def _table(self) -> str:
        return '"' + self.collection_name.replace('"', "") + '"'

    def connect(self, force_reset: bool = False) -> None:
        if self._conn is not None and not force_reset:
            return
        Path(self.database_path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.database_path, timeout=60, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed upsert survives a killed process (not a power cut) without an
        # fsync per transaction
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} (uid TEXT PRIMARY KEY, key TEXT, doc TEXT)"
        )
        index = '"' + f"{self.collection_name}_key".replace('"', "") + '"'
        self._conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self._table} (key)")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def _collection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"{self.name} is not connected; call connect() first")
        return self._conn

    def _rows(self, criteria: dict | None) -> list[dict]:
        """Documents that may match ``criteria``: narrowed by the key index when it can."""
        value = (criteria or {}).get(self.key)
        if isinstance(value, dict) and set(value) == {"$in"}:
            keys = [json.dumps(v) for v in value["$in"]]
            marks = ",".join("?" * len(keys))
            cursor = self._collection.execute(f"SELECT doc FROM {self._table} WHERE key IN ({marks})", keys)
        elif value is not None and not isinstance(value, dict | list):
            cursor = self._collection.execute(
                f"SELECT doc FROM {self._table} WHERE key = ?", (json.dumps(value),)
            )
        else:
            cursor = self._collection.execute(f"SELECT doc FROM {self._table} ORDER BY rowid")
        return [json.loads(row[0]) for row in cursor]

    def _matching(self, criteria: dict | None) -> list[dict]:
        """Documents that match the MongoDB filter ``criteria``."""
        return [row for row in self._rows(criteria) if not criteria or filter_applies(criteria, row)]

    def _memory(self, criteria: dict | None, fields: set[str] | None = None) -> MemoryStore:
        """A MemoryStore of the documents matching ``criteria`` (only their top-level ``fields``),
        on which mongomock evaluates projections, sorts and groupings with MongoDB semantics."""
        memory = MemoryStore(collection_name=f"{self.collection_name}_view", key=self.key)
        memory.connect()
        rows = self._matching(criteria)
        if fields is not None:
            rows = [{k: v for k, v in row.items() if k in fields} for row in rows]
        if rows:
            memory._collection.insert_many(rows)
        return memory

    def count(self, criteria: dict | None = None, hint: dict | None = None) -> int:
        if not criteria:
            return self._collection.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0]
        return len(self._matching(criteria))

    def query(
        self,
        criteria: dict | None = None,
        properties: dict | list | None = None,
        sort: dict[str, Sort | int] | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> Iterator[dict]:
        """Documents matching a MongoDB filter, with projection, sort, skip and limit."""
        fields = _top_level_fields(properties, sort, self.key)
        view = self._memory(criteria, fields)
        for doc in view.query(properties=properties, sort=sort, skip=skip, limit=limit):
            doc.pop("_id", None)
            yield doc

    def distinct(self, field: str, criteria: dict | None = None, all_exist: bool = False) -> list:
        return self._memory(criteria).distinct(field, all_exist=all_exist)

    def groupby(self, keys, criteria=None, properties=None, sort=None, skip=0, limit=0):
        return self._memory(criteria).groupby(keys, properties=properties, sort=sort, skip=skip, limit=limit)

    def update(self, docs: list[dict] | dict, key: list | str | None = None) -> None:
        """Upsert documents; ``key`` (one field or several) decides which document is replaced."""
        docs = docs if isinstance(docs, list) else [docs]
        fields = key or self.key
        fields = fields if isinstance(fields, list) else [fields]
        rows = []
        for doc in docs:
            doc = jsanitize(doc, strict=False, allow_bson=False, recursive_msonable=True)
            doc.pop("_id", None)
            uid = json.dumps([doc.get(f) for f in fields])
            rows.append((uid, json.dumps(doc.get(self.key)), json.dumps(doc)))
        with self._collection:
            self._collection.execute("BEGIN IMMEDIATE")
            self._collection.executemany(
                f"INSERT OR REPLACE INTO {self._table} (uid, key, doc) VALUES (?, ?, ?)", rows
            )

    def remove_docs(self, criteria: dict) -> None:
        if not criteria:
            self._collection.execute(f"DELETE FROM {self._table}")
            return
        doomed = [d for d in self.query(criteria, properties=[self.key])]
        keys = [json.dumps(d.get(self.key)) for d in doomed]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            self._collection.execute(
                f"DELETE FROM {self._table} WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )

    def ensure_index(self, key: str, unique: bool = False) -> bool:
        """Only the store's key is indexed; other fields are answered by scanning."""
        return key == self.key

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SQLiteStore)
            and self.database_path == other.database_path
            and self.collection_name == other.collection_name
        )

    def __hash__(self) -> int:
        return hash((self.database_path, self.collection_name))


def _top_level_fields(properties: dict | list | None, sort: dict | None, key: str) -> set[str] | None:
    """Top-level fields a projection and a sort read; None when the projection keeps everything."""
    if properties is None or (isinstance(properties, dict) and not all(properties.values())):
        return None
    names = list(properties) + list(sort or {}) + [key]
    return {name.split(".")[0] for name in names}


def mask_uri(uri: str) -> str:
    """The URI with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", uri)


def _uri_hosts(uri: str) -> str:
    """Host part (``host:port[,host:port]``) of a MongoDB URI."""
    rest = uri.split("://", 1)[-1]
    rest = rest.rsplit("@", 1)[-1]
    return re.split(r"[/?]", rest, maxsplit=1)[0]


@dataclass
class CampaignStores(MSONable):
    """The stores of one campaign database (all MSONable, so jobs on cluster workers can use them)."""

    orderings: Store
    candidates: Store
    campaigns: Store
    validations: Store
    outputs: Store
    extensions: Store
    location: str

    def __iter__(self) -> Iterator[Store]:
        return iter(
            (self.orderings, self.candidates, self.campaigns, self.validations, self.outputs, self.extensions)
        )

    def connect(self) -> CampaignStores:
        for store in self:
            store.connect()
        return self

    def close(self) -> None:
        for store in self:
            store.close()

    def job_store(self) -> JobStore:
        """jobflow store whose docs store is this database's ``outputs`` collection."""
        return JobStore(self.outputs)


def _check_mongodb(store: MongoStore, uri: str, timeout_s: float) -> None:
    try:
        store.connect()
        store._collection.database.client.admin.command("ping")
    except PyMongoError as exc:
        raise ServiceError(
            f"MongoDB at {_uri_hosts(mask_uri(uri))} is unreachable within {timeout_s:g} s "
            f"(store.uri {mask_uri(uri)}): {type(exc).__name__}"
        ) from None


def _check_database(store: MongoStore, database: str, origin: str | None) -> None:
    """A MongoDB database must exist before it is read (a mistyped name would read as empty)."""
    try:
        names = store._collection.database.client.list_database_names()
    except PyMongoError:  # listing needs a privilege some users lack: then trust the name
        return
    if database not in names:
        raise InputError(
            f"no database {database!r} on the MongoDB server (databases: {', '.join(names) or 'none'})",
            source=origin,
            field="store.database",
            expected="the database of a campaign run with 'magscreen run'",
        )


def build_stores(
    config: StoreConfig, *, check: bool = True, create: bool = True, origin: str | None = None
) -> CampaignStores:
    """Build (and, with ``check``, connect to) the stores described by a ``store`` config section.

    Parameters
    ----------
    config
        The ``store`` section.
    check
        Connect now (MongoDB: ping the server).
    create
        Whether a missing embedded store may be created; without, a missing one is an error.
    origin
        Where the store section came from (a config file, ``--db``), for messages.

    Raises
    ------
    InputError
        ``create`` is False and no embedded store exists at the path (or no such MongoDB database).
    ServiceError
        A MongoDB server that does not answer within ``config.timeout_s``; the message names its host
        and masks any password in the URI.
    """
    if config.kind == "embedded":
        path = str(Path(config.path).expanduser().resolve() / DATABASE_FILE)
        if not create and not Path(path).is_file():
            raise InputError(
                f"no magscreen store at {Path(path).parent} (no {DATABASE_FILE} there)",
                source=origin,
                field="store.path" if origin and not origin.startswith("--") else None,
                expected="the folder of a store written by 'magscreen run'",
            )
        stores = {name: SQLiteStore(path, name, key=key) for name, key in COLLECTIONS.items()}
        location = path
    else:
        uri = config.uri or ""
        timeout_ms = int(config.timeout_s * 1000)
        client_kwargs = {"serverSelectionTimeoutMS": timeout_ms, "connectTimeoutMS": timeout_ms}
        stores = {
            name: MongoStore(config.database, name, uri=uri, key=key, mongoclient_kwargs=client_kwargs)
            for name, key in COLLECTIONS.items()
        }
        location = f"{mask_uri(uri)} (database {config.database})"
        if check:
            _check_mongodb(stores["campaigns"], uri, config.timeout_s)
        if check and not create:
            _check_database(stores["campaigns"], config.database, origin)
    campaign_stores = CampaignStores(location=location, **stores)
    if check:
        campaign_stores.connect()
    return campaign_stores
