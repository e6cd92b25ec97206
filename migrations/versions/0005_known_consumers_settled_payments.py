"""order_history knows its consumers (an unknown consumer's order list is a 404, not an
empty page); order_details shows settled payments.

Both views are brought up to date from the event log here, for the events applied before
this revision (their projectors handle the same events from now on; both are idempotent).

Revision ID: 0005
Revises: 0004
"""

from migrations.raw import execute

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    CREATE TABLE query.order_history_consumers (id uuid PRIMARY KEY);
    INSERT INTO query.order_history_consumers (id)
        SELECT (payload->>'consumer_id')::uuid FROM command.outbox WHERE type = 'consumers.consumer_registered'
        ON CONFLICT DO NOTHING;
    UPDATE query.order_details SET payment_status = 'settled'
    WHERE payment_status = 'authorized'
      AND id IN (SELECT (payload->>'order_id')::uuid FROM command.outbox WHERE type = 'accounting.payment_settled');
    """)


def downgrade() -> None:
    execute("""
    UPDATE query.order_details SET payment_status = 'authorized' WHERE payment_status = 'settled';
    DROP TABLE query.order_history_consumers;
    """)
