"""Run a block of raw SQL (several statements) in the migration's transaction.

`op.execute` goes through SQLAlchemy's asyncpg adapter, which prepares every
statement and so refuses more than one command; asyncpg's own `execute` without
arguments uses the simple query protocol, which takes a whole script.
"""

from alembic import op
from sqlalchemy.util import await_only


def execute(sql: str) -> None:
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    await_only(driver_connection.execute(sql))
