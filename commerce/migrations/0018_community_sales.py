"""Issue 13, community sales: flags on community orders left unclaimed at their point."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0017_leaders")]

    initial = False

    operations = [
        ops.CreateModel(
            name="UnclaimedFlag",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("order_id", fields.IntField(unique=True)),
                ("batch_id", fields.IntField(db_index=True)),
                ("leader_id", fields.IntField(db_index=True)),
                ("pickup_point_id", fields.IntField()),
                ("arrived_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("flagged_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "community_unclaimed_flag",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A community order still waiting at its point N days (COMMUNITY_UNCLAIMED_DAYS) after its",
            },
            bases=["Model"],
        ),
    ]
