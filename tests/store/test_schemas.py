"""Every party's schema (the features' `SCHEMAS`, as `gridchain store` sees them): its revisions build exactly its
tables in code, on SQLite and on PostgreSQL, and no two schemas share a name or a table."""

import pytest

from gridchain.cli import SCHEMAS
from gridchain.store.migrate import drift, head, revision


def test_names_and_tables_are_unique():
    names = [s.name for s in SCHEMAS]
    tables = [t for s in SCHEMAS for t in s.metadata.tables]
    assert len(set(names)) == len(names) and len(set(tables)) == len(tables)
    assert not {f"{n}_version" for n in names} & set(tables)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
def test_revisions_build_the_tables_in_code(store, schema):
    store.migrate(schema)
    assert revision(store, schema) == head(schema)
    assert drift(store, schema) == []
