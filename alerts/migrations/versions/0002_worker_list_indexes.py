"""A worker's order list, red first, by index: (assignee|backup, severity, id).

The list used to walk (severity, id) and filter by assignee: p99 68 ms with 100,000
orders in PostgreSQL. Backups are indexed too, since a red order's backup sees it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_work_orders_assignee_status", table_name="work_orders")
    op.create_index("ix_work_orders_assignee_sev", "work_orders", ["assignee", "severity", "id"])
    op.create_index("ix_work_orders_backup_sev", "work_orders", ["backup", "severity", "id"])


def downgrade() -> None:
    op.drop_index("ix_work_orders_backup_sev", table_name="work_orders")
    op.drop_index("ix_work_orders_assignee_sev", table_name="work_orders")
    op.create_index("ix_work_orders_assignee_status", "work_orders", ["assignee", "status"])
