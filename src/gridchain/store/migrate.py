"""Schema migrations with Alembic, one independent history per party's schema.

A `Schema` is a party's tables (`metadata`) and the folder of its Alembic revisions (`versions`: plain revision
files, `down_revision = None` for the first). Each schema keeps its revision in a table of its own
(`<name>_version`), so parties that share a deployment's database migrate independently, each service
migrating its own schema when it starts (`Store.migrate`). The migration runs in one transaction that also
holds the database's write lock (SQLite's BEGIN IMMEDIATE; a PostgreSQL advisory lock per schema), so two services
starting at once never migrate the same schema twice, and a crash during a migration leaves the old schema.
`drift(store, schema)` says where the revisions and the tables in code disagree (a test asserts it is empty).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text

from gridchain.store.engine import Store


@dataclass(frozen=True)
class Schema:
    """A party's tables: `name` (letters, digits, _), their `metadata`, and the folder of its revisions."""

    name: str
    metadata: MetaData
    versions: Path

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise ValueError(f"schema name {self.name!r}: letters, digits and _ only")

    @property
    def version_table(self) -> str:
        return f"{self.name}_version"

    def script(self) -> ScriptDirectory:
        return ScriptDirectory(str(self.versions), version_locations=[str(self.versions)])


def upgrade(store: Store, schema: Schema) -> None:
    """Apply `schema`'s revisions that the database has not had yet, in one locked transaction."""
    script = schema.script()

    def steps(revision, _context):
        return script._upgrade_revs("head", revision)

    def work(connection: Connection) -> None:
        environment = EnvironmentContext(Config(), script, fn=steps, destination_rev="head")
        environment.configure(
            connection=connection, target_metadata=schema.metadata, version_table=schema.version_table
        )
        with environment.begin_transaction():
            environment.run_migrations()

    if store.dialect != "postgresql":
        store.atomic(work)  # SQLite: BEGIN IMMEDIATE holds the database's write lock
        return
    # PostgreSQL: a lock per schema, taken before the migration's serializable snapshot (else it would not see
    # the tables another service made while it waited), on a connection of its own, released after the commit
    key = zlib.crc32(schema.name.encode())
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            store.atomic(work)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def revision(store: Store, schema: Schema) -> str | None:
    """The schema's revision in the database (None before its first migration)."""

    def work(connection: Connection) -> str | None:
        return MigrationContext.configure(
            connection, opts={"version_table": schema.version_table}
        ).get_current_revision()

    return store.read(work)


def head(schema: Schema) -> str | None:
    """The newest revision in the schema's folder."""
    return schema.script().get_current_head()


def drift(store: Store, schema: Schema) -> list:
    """What differs between the migrated database and `schema.metadata` (Alembic's autogenerate comparison,
    restricted to the schema's own tables): empty when the revisions build exactly the tables in code."""
    names = set(schema.metadata.tables)

    def include(obj, name, kind, reflected, _compare_to) -> bool:
        return name in names if kind == "table" else True

    def work(connection: Connection) -> list:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "version_table": schema.version_table}
        )
        return compare_metadata(context, schema.metadata)

    return store.read(work)
