"""A view's batch applied as one statement: the checkpoint's compare-and-set must abort it.

`command.checkpoint_moved(name)` raises SQLSTATE CQ001. The runner's one-statement form
(app/infra/subscriptions.py) calls it when the compare-and-set in the same statement
updated no row, so the view's writes in that statement roll back with it: no projector
has to remember to depend on the checkpoint, and no other error can be mistaken for it.

Revision ID: 0004
Revises: 0003
"""

from migrations.raw import execute

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    CREATE FUNCTION command.checkpoint_moved(subscription text) RETURNS void
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        RAISE EXCEPTION 'checkpoint of % moved', subscription USING ERRCODE = 'CQ001';
    END
    $$;
    """)


def downgrade() -> None:
    execute("DROP FUNCTION command.checkpoint_moved(text);")
