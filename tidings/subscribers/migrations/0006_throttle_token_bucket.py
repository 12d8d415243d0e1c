# The rate-limit counters become token buckets (lib.ratelimit): the rows only ever held the
# last hour's counts, so they are dropped rather than converted.
from django.db import migrations, models


def forget_counters(apps, schema_editor):
    apps.get_model("subscribers", "Throttle").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0005_shared_copies")]

    operations = [
        migrations.RunPython(forget_counters, migrations.RunPython.noop),
        migrations.RemoveField(model_name="throttle", name="count"),
        migrations.RenameField(model_name="throttle", old_name="window_start", new_name="stamp"),
        migrations.AddField(
            model_name="throttle", name="tokens", field=models.FloatField(default=0)
        ),
    ]
