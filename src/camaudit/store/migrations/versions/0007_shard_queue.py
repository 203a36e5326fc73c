"""shards.queue and shards.queued: where an audit's shard is sent, and whether it was

An audit's start records its shards, then sends one message per shard; a start killed in
between leaves shards nobody was told of. ``queue`` (set when the shard is recorded, null
for a shard of ``scan --workers``) and ``queued`` (set once its message is sent) let the
scheduler find and queue them (dist/celery_app.py, requeue_interrupted).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shards") as batch:
        batch.add_column(sa.Column("queue", sa.String(200), nullable=True))
        batch.add_column(sa.Column("queued", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shards") as batch:
        batch.drop_column("queued")
        batch.drop_column("queue")
