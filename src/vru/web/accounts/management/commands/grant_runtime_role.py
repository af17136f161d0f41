"""``python -m django grant_runtime_role <role>``: the PostgreSQL rights of the role the service runs as.

Run by the owner role (the role that runs ``migrate`` and owns the schema), after every ``migrate``
(docs/web.md, "Production deployment"). It gives ``<role>``, in the current schema:

- ``SELECT, INSERT, UPDATE, DELETE`` on every table and ``USAGE, SELECT`` on every sequence, and the
  same by default on the tables and sequences the owner creates later (``ALTER DEFAULT PRIVILEGES``);
- on the audit log's table only ``SELECT`` and ``INSERT``: PostgreSQL itself refuses the service's
  ``UPDATE``, ``DELETE`` and ``TRUNCATE`` of an entry, whatever the application does.

Nothing else: not ``TRUNCATE``, ``REFERENCES`` or ``TRIGGER``, no ``CREATE`` on the schema, and the role
owns nothing, so it cannot grant itself rights back. Idempotent: running it again changes nothing.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from vru.web.accounts.models import AuditLog

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT"


class Command(BaseCommand):
    help = ("Grant the service's PostgreSQL role SELECT, INSERT, UPDATE, DELETE on every table (also on "
            "tables created later) but only SELECT and INSERT on the audit log. Run as the owner role "
            "after every migrate.")

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the service (gunicorn) connects as, e.g. vru_web")

    def handle(self, *args, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError(f"the database is {connection.vendor}: roles and grants are PostgreSQL's")
        if not ROLE_NAME.match(role):
            raise CommandError(f"{role!r} is not a role name this command accepts (lower-case letters, "
                               "digits and _)")
        q = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as c:
            c.execute("SELECT current_user, current_schema()")
            owner, schema = c.fetchone()
            table = AuditLog._meta.db_table
            c.execute("SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = %s",
                      [schema, table])
            found = c.fetchone()
            if found is None:
                raise CommandError(f"there is no table {table} in {schema}: run migrate first")
            if found[0] != owner:
                raise CommandError(f"{owner} does not own the tables ({found[0]} does): run this as the "
                                   "owner role, the one that runs migrate")
            c.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            found = c.fetchone()
            if found is None:
                raise CommandError(f"there is no role {role!r} (createuser {role})")
            if role == owner:
                raise CommandError(f"{role!r} is the role running this command, the owner of the tables: "
                                   "name the service's own role, and run this as the owner")
            if found[0]:
                raise CommandError(f"{role!r} is a superuser: no grant can limit it; the service's role "
                                   "must be an ordinary role")
            r, s, audit = q(role), q(schema), q(table)
            for statement in (
                f"GRANT USAGE ON SCHEMA {s} TO {r}",
                f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {s} TO {r}",
                f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT {TABLE_RIGHTS} ON TABLES TO {r}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {r}",
                # The audit log is append-only for the service.
                f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {s}.{audit} FROM {r}",
            ):
                c.execute(statement)
        self.stdout.write(f"{role}: {TABLE_RIGHTS} on every table of {schema} owned by {owner} (also on "
                          f"tables created later), SELECT, INSERT only on {AuditLog._meta.db_table}")
