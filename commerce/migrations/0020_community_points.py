"""Issue 13: a community leader's pickup point is marked as such: it collects community sales'
orders only, and its leader's review (not the pickup-points page) opens and closes it. The
points leaders applied with before this column are marked from the leaders' rows."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0019_leader_commission")]

    initial = False

    operations = [
        ops.AddField(
            model_name="PickupPoint",
            name="community",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunSQL(
            "UPDATE pickup_point SET community = 1"
            " WHERE id IN (SELECT pickup_point_id FROM community_leader)"
        ),
    ]
