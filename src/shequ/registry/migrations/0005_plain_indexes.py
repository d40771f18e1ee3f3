# The blind indexes lose db_index (which on PostgreSQL is two indexes, one for LIKE prefixes) for one plain
# index each. Written by hand: the AlterField that makemigrations writes makes PostgreSQL's schema editor
# drop every index on the column, the partial unique index of resident_document_unique among them. Here
# the database side names exactly the indexes db_index made (IF EXISTS: SQLite never had the _like ones).

from django.db import migrations, models

DB_INDEXES = [
    "registry_resident_id_index_d1387079",
    "registry_resident_id_index_d1387079_like",
    "registry_resident_phone_index_711c4b59",
    "registry_resident_phone_index_711c4b59_like",
]


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
        ("registry", "0004_household_address"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="resident",
                    name="id_index",
                    field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="证件号码索引"),
                ),
                migrations.AlterField(
                    model_name="resident",
                    name="phone_index",
                    field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="电话索引"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in DB_INDEXES],
                    reverse_sql=[
                        'CREATE INDEX "registry_resident_id_index_d1387079" ON "registry_resident" ("id_index")',
                        'CREATE INDEX "registry_resident_phone_index_711c4b59" ON "registry_resident" ("phone_index")',
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(fields=["id_index"], name="resident_id_index"),
        ),
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(fields=["phone_index"], name="resident_phone_index"),
        ),
    ]
