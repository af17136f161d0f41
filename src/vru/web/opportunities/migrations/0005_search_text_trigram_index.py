"""A trigram index on ``search_text`` for keyword search on PostgreSQL.

Keyword search filters ``search_text LIKE '%word%'`` once per word. Without an index that is a
sequential scan of every opportunity's text (144 ms over 25,000 rows in benchmarks/lvn_search); a GIN
index with ``pg_trgm``'s ``gin_trgm_ops`` answers ``LIKE '%word%'`` from the index (words of three or
more letters). ``pg_trgm`` ships with PostgreSQL (contrib) and is a trusted extension since
PostgreSQL 13, so the database owner can create it without being a superuser. SQLite (development,
tests) keeps the scan: nothing is created there.
"""

from django.db import migrations

INDEX = "opp_search_text_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    table = apps.get_model("opportunities", "Opportunity")._meta.db_table
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {schema_editor.quote_name(table)} "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0004_search_text")]

    operations = [migrations.RunPython(create, drop)]
