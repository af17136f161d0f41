"""The append-only tables refuse UPDATE and DELETE in the database itself, on PostgreSQL (docs/web-referrals.md,
"Append-only records"): a row trigger raises on every UPDATE and DELETE, whoever sends it (the ORM, raw SQL,
psql with the service's credentials). One exception: the erasure at the end of retention blanks the free text
and coarsens the dates of the allocations, change records, break-glass openings and disclosures, so an UPDATE
of those four tables passes inside a transaction that has set the transaction-local setting ``vru.erasure``
to ``on`` (``set_config('vru.erasure', 'on', true)``), which only ``services.anonymise`` does. A DELETE never
passes, and the published figures are never updated. SQLite (the development database) has no such setting:
there the application's guards (``models.AppendOnly``) are the protection."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION vru_referrals_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'erasable'
            AND coalesce(current_setting('vru.erasure', true), '') = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% of %: the table is append-only', TG_OP, TG_TABLE_NAME
        USING HINT = 'rows of this table are never changed or deleted (only erasure blanks them)';
END;
$$ LANGUAGE plpgsql;
"""

#: (model, whether the erasure may blank its rows)
TABLES = [
    ("allocation", True),
    ("changerecord", True),
    ("breakglass", True),
    ("disclosure", True),
    ("publishedfigures", False),
]


def _tables(apps):
    return [(apps.get_model("referrals", m)._meta.db_table, erasable) for m, erasable in TABLES]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # its % are PL/pgSQL's, not placeholders
    for table, erasable in _tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" FOR EACH ROW '
            f"EXECUTE FUNCTION vru_referrals_append_only('{'erasable' if erasable else 'fixed'}')"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _ in _tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS vru_referrals_append_only()")


class Migration(migrations.Migration):
    dependencies = [("referrals", "0008_erasure_keeps_first_contact")]

    operations = [migrations.RunPython(create, drop)]
