# The rate-limit counters become token buckets (lib.ratelimit) in a table of their own. The old
# table, subscribers_throttle, stays in the database for the previous release's web processes,
# which still count in it while an upgrade migrates (docs/DEPLOY.md); the release after this one
# drops it. Its rows only ever held the last hour's counts, so nothing is carried over.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0005_shared_copies")]

    operations = [
        migrations.CreateModel(
            name="RateBucket",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=200, unique=True)),
                ("stamp", models.DateTimeField()),
                ("tokens", models.FloatField(default=0)),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Throttle")],
            database_operations=[],
        ),
    ]
