"""Positions received are recorded at import (PositionImport, PositionReceipt), so a retention purge of
the store no longer changes the programme figure. The fixes already in
the store are counted once, as one import named "(in the store before receipts were recorded)": what was
purged before this migration cannot be counted back."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

BACKFILL = "(in the store before receipts were recorded)"


def backfill(apps, schema_editor):
    from pathlib import Path

    from django.conf import settings

    PositionImport = apps.get_model("tagging", "PositionImport")
    PositionReceipt = apps.get_model("tagging", "PositionReceipt")
    DeviceActivation = apps.get_model("tagging", "DeviceActivation")
    root = Path(settings.VRU_TAGGING_STORE)
    files = sorted(root.glob("day=*/*.parquet")) if root.is_dir() else []
    acts = [(a.device_id, a.wearer.order_type, a.active_from, a.active_to)
            for a in DeviceActivation.objects.select_related("wearer")]
    if not files or not acts:
        return
    import duckdb
    import pandas as pd

    frame = pd.DataFrame(acts, columns=["device_id", "order_type", "active_from", "active_to"])
    for c in ("active_from", "active_to"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("acts", frame)
        file_list = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        rows = con.sql(f"""
            SELECT a.order_type, strftime(p.fix_time, '%Y-%m') AS month, count(*) AS n
            FROM read_parquet([{file_list}]) p JOIN acts a ON p.device_id = a.device_id
             AND p.fix_time >= a.active_from AND (a.active_to IS NULL OR p.fix_time < a.active_to)
            GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
        total = con.execute(f"SELECT count(*) FROM read_parquet([{file_list}])").fetchone()[0]
    finally:
        con.close()
    rec = PositionImport.objects.create(file_name=BACKFILL, rows=total, added=total, duplicates=0)
    PositionReceipt.objects.bulk_create(PositionReceipt(position_import=rec, order_type=t, month=m, n=n)
                                        for t, m, n in rows)


def unfill(apps, schema_editor):
    apps.get_model("tagging", "PositionReceipt").objects.filter(position_import__file_name=BACKFILL).delete()
    apps.get_model("tagging", "PositionImport").objects.filter(file_name=BACKFILL).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('tagging', '0004_tagging_reviewer'),
    ]

    operations = [
        migrations.CreateModel(
            name='PositionImport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file_name', models.CharField(max_length=255)),
                ('imported_at', models.DateTimeField(auto_now_add=True)),
                ('rows', models.BigIntegerField(validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1000000000000)])),
                ('added', models.BigIntegerField(validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1000000000000)])),
                ('duplicates', models.BigIntegerField(validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1000000000000)])),
            ],
            options={
                'ordering': ['-imported_at', '-pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('rows__gte', 0), ('rows__lte', 1000000000000), ('added__gte', 0), ('added__lte', 1000000000000), ('duplicates__gte', 0), ('duplicates__lte', 1000000000000)), name='tagging_import_counts')],
            },
        ),
        migrations.CreateModel(
            name='PositionReceipt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order_type', models.CharField(choices=[('knife_licence', 'Knife crime, on licence'), ('da_licence', 'Domestic abuse, on licence'), ('stalking', 'Stalking'), ('acquisitive', 'Acquisitive crime')], max_length=20)),
                ('month', models.CharField(help_text='YYYY-MM of the fix time (UTC)', max_length=7, validators=[django.core.validators.RegexValidator('^\\d{4}-(0[1-9]|1[0-2])$', 'Give a month as YYYY-MM')])),
                ('n', models.BigIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(1000000000000)])),
                ('position_import', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='tagging.positionimport')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('position_import', 'order_type', 'month'), name='tagging_receipt_unique'), models.CheckConstraint(condition=models.Q(('n__gte', 1), ('n__lte', 1000000000000)), name='tagging_receipt_n')],
            },
        ),
        migrations.RunPython(backfill, unfill),
    ]
