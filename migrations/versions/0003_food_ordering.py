"""Food ordering: six command modules (each its own tables) and three composed views.

Each command module keeps the copies of other modules' facts it needs (fed by its own
subscription), never reading their tables. `cube` (a trusted extension) indexes
restaurant locations as points on the earth's surface; `btree_gin` lets one GIN index
serve "this consumer's orders with any of these words".

Revision ID: 0003
Revises: 0002
"""

from migrations.raw import execute

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute("""
    CREATE EXTENSION IF NOT EXISTS cube;
    CREATE EXTENSION IF NOT EXISTS btree_gin;

    -- consumers
    CREATE TABLE command.consumers (
        id uuid PRIMARY KEY, name text NOT NULL, credit_limit numeric(12, 2) NOT NULL,
        created_at timestamptz NOT NULL
    );

    -- restaurants
    CREATE TABLE command.restaurants (
        id uuid PRIMARY KEY, name text NOT NULL, address text NOT NULL,
        lat double precision NOT NULL, lon double precision NOT NULL,
        delivery_radius_km double precision NOT NULL, timezone text NOT NULL,
        opening_hours jsonb NOT NULL, menu jsonb NOT NULL, menu_revision integer NOT NULL,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
    );

    -- orders (with its own copies of consumers and restaurant menus)
    CREATE TABLE command.order_consumers (id uuid PRIMARY KEY);
    CREATE TABLE command.order_restaurants (
        id uuid PRIMARY KEY, name text NOT NULL, menu jsonb NOT NULL, menu_revision integer NOT NULL
    );
    CREATE TABLE command.orders (
        id uuid PRIMARY KEY, consumer_id uuid NOT NULL, restaurant_id uuid NOT NULL,
        line_items jsonb NOT NULL, total numeric(12, 2) NOT NULL, delivery_address text NOT NULL,
        state text NOT NULL, version integer NOT NULL,
        payment_authorized boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
    );

    -- accounting
    CREATE TABLE command.accounting_accounts (
        consumer_id uuid PRIMARY KEY, credit_limit numeric(12, 2) NOT NULL
    );
    CREATE TABLE command.accounting_payments (
        order_id uuid PRIMARY KEY, consumer_id uuid NOT NULL, amount numeric(12, 2) NOT NULL,
        status text NOT NULL CHECK (status IN ('authorized', 'declined', 'reversed', 'settled')),
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX ON command.accounting_payments (consumer_id) WHERE status = 'authorized';

    -- kitchen
    CREATE TABLE command.kitchen_tickets (
        order_id uuid PRIMARY KEY, restaurant_id uuid NOT NULL, line_items jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('AWAITING_PAYMENT', 'CREATED', 'ACCEPTED',
            'PREPARING', 'READY_FOR_PICKUP', 'CANCELLED', 'REJECTED')),
        ready_by timestamptz, updated_at timestamptz NOT NULL
    );

    -- delivery
    CREATE TABLE command.couriers (
        id uuid PRIMARY KEY, name text NOT NULL, available boolean NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE TABLE command.deliveries (
        order_id uuid PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('PENDING', 'WAITING', 'ASSIGNED', 'PICKED_UP',
            'DELIVERED', 'CANCELLED')),
        courier_id uuid REFERENCES command.couriers (id),
        ready boolean NOT NULL DEFAULT false,
        waiting_since timestamptz, picked_up_at timestamptz, delivered_at timestamptz,
        updated_at timestamptz NOT NULL
    );
    -- A courier carries one order at a time, whatever the concurrency.
    CREATE UNIQUE INDEX deliveries_one_order_per_courier ON command.deliveries (courier_id)
        WHERE status IN ('ASSIGNED', 'PICKED_UP');
    CREATE INDEX ON command.deliveries (waiting_since, order_id) WHERE status = 'WAITING';

    -- query: order details, one document per order, each field written by its own events
    CREATE TABLE query.order_details (
        id uuid PRIMARY KEY,
        consumer_id uuid, restaurant_id uuid, restaurant_name text, line_items jsonb,
        total numeric(12, 2), state text, state_version integer NOT NULL DEFAULT 0,
        payment_status text NOT NULL DEFAULT 'pending',
        ticket_status text, ticket_ready_by timestamptz,
        delivery_status text, courier_id uuid, courier_name text,
        picked_up_at timestamptz, delivered_at timestamptz,
        created_at timestamptz, updated_at timestamptz
    );

    -- query: a consumer's order history with filters and whole-word keywords
    CREATE TABLE query.order_history (
        id uuid PRIMARY KEY, consumer_id uuid NOT NULL, restaurant_id uuid NOT NULL,
        restaurant_name text NOT NULL, line_items jsonb NOT NULL, total numeric(12, 2) NOT NULL,
        state text NOT NULL, state_version integer NOT NULL,
        words text[] NOT NULL, created_at timestamptz NOT NULL
    );
    CREATE INDEX ON query.order_history (consumer_id, created_at DESC, id DESC);
    CREATE INDEX ON query.order_history (consumer_id, state, created_at DESC, id DESC);
    CREATE INDEX ON query.order_history USING gin (consumer_id, words);

    -- query: restaurants available for a place and a time
    CREATE TABLE query.available_restaurants (
        id uuid PRIMARY KEY, name text NOT NULL, address text NOT NULL,
        lat double precision NOT NULL, lon double precision NOT NULL,
        location cube NOT NULL, delivery_radius_km double precision NOT NULL,
        timezone text NOT NULL
    );
    CREATE INDEX ON query.available_restaurants USING gist (location);
    -- The search box is as wide as the widest delivery radius: max() from this index.
    CREATE INDEX ON query.available_restaurants (delivery_radius_km);
    CREATE TABLE query.available_restaurant_hours (
        restaurant_id uuid NOT NULL, day smallint NOT NULL, opens time NOT NULL, closes time NOT NULL
    );
    CREATE INDEX ON query.available_restaurant_hours (restaurant_id);
    """)


def downgrade() -> None:
    execute("""
    DROP TABLE query.available_restaurant_hours;
    DROP TABLE query.available_restaurants;
    DROP TABLE query.order_history;
    DROP TABLE query.order_details;
    DROP TABLE command.deliveries;
    DROP TABLE command.couriers;
    DROP TABLE command.kitchen_tickets;
    DROP TABLE command.accounting_payments;
    DROP TABLE command.accounting_accounts;
    DROP TABLE command.orders;
    DROP TABLE command.order_restaurants;
    DROP TABLE command.order_consumers;
    DROP TABLE command.restaurants;
    DROP TABLE command.consumers;
    """)
