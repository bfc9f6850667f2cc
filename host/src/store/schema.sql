-- Floor's store: what people ask about after the fact. Open it with
-- `sqlite3 <data_dir>/floor.db`. Times are event time, ns since the Unix
-- epoch; prices and quantities in the venue's units. docs/store.md has
-- example queries.

PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;

-- One row per order the host created, updated as its events arrive.
CREATE TABLE IF NOT EXISTS orders (
    order_id     TEXT PRIMARY KEY,   -- host-assigned, `<agent>-<n>`
    agent        TEXT NOT NULL,      -- who sent the intent
    tag          TEXT NOT NULL,      -- the agent's tag (`stop:<id>` for the host's stops)
    symbol       TEXT NOT NULL,
    side         TEXT NOT NULL,      -- buy | sell
    order_type   TEXT NOT NULL,      -- market | limit
    quantity     REAL NOT NULL,      -- as sent (after any resize)
    limit_price  REAL,
    stop_price   REAL,               -- the protective stop it asked for
    status       TEXT NOT NULL,      -- the latest: accepted, partially_filled, filled, cancelled, rejected, expired
    reason       TEXT,               -- why, when rejected (risk agent, hard limit or venue)
    filled       REAL NOT NULL,      -- cumulative quantity
    created_ns   INTEGER NOT NULL,
    updated_ns   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_symbol ON orders (symbol, created_ns);

-- Every order event, in the order the host applied them.
CREATE TABLE IF NOT EXISTS order_events (
    id                  INTEGER PRIMARY KEY,
    order_id            TEXT NOT NULL REFERENCES orders (order_id),
    event_ns            INTEGER NOT NULL,
    trace_id            INTEGER NOT NULL,  -- shared by everything one input caused
    status              TEXT NOT NULL,
    reason              TEXT,
    last_quantity       REAL NOT NULL,
    last_price          REAL NOT NULL,
    cumulative_quantity REAL NOT NULL,
    leaves_quantity     REAL NOT NULL,
    fee                 REAL NOT NULL      -- quote asset
);
CREATE INDEX IF NOT EXISTS order_events_by_order ON order_events (order_id, id);
-- An event is a fact about an order (its status once so much had filled)
-- and is written once, whoever writes it and when: crash recovery
-- rewrites the last session's events (the crashed host's writes are
-- batched), and reconciliation may find again a fill whose report the
-- crashed host had written here but not yet journaled.
CREATE UNIQUE INDEX IF NOT EXISTS order_events_once
    ON order_events (order_id, status, cumulative_quantity);

-- Fills: the order events that moved money.
CREATE VIEW IF NOT EXISTS fills AS
    SELECT e.id, e.order_id, o.agent, o.tag, o.symbol, o.side, e.event_ns,
           e.last_quantity AS quantity, e.last_price AS price, e.fee
    FROM order_events e JOIN orders o USING (order_id)
    WHERE e.last_quantity > 0;

-- Messages the host could not handle normally (also in dlq.jsonl, which
-- `floor dlq` reads and replays).
CREATE TABLE IF NOT EXISTS dead_letters (
    id        INTEGER PRIMARY KEY,
    event_ns  INTEGER NOT NULL,
    agent     TEXT NOT NULL,
    reason    TEXT NOT NULL,        -- a reason code (docs/json.md)
    attempts  INTEGER NOT NULL,
    topic     TEXT NOT NULL,
    detail    TEXT NOT NULL
);

-- What people and the host's own safety changed: trading state changes
-- (who, why), approvals and rejections of held intents.
CREATE TABLE IF NOT EXISTS audit (
    id        INTEGER PRIMARY KEY,
    event_ns  INTEGER NOT NULL,
    actor     TEXT NOT NULL,        -- `operator`, `host`, a person's name
    action    TEXT NOT NULL,        -- e.g. `trading.halted`, `approval.approved`
    detail    TEXT NOT NULL
);

-- The checkpoints a running host took (docs/recovery.md), each written
-- after every row the host queued before it: a recovery replays the
-- journal from the newest checkpoint found here, and so rewrites whatever
-- rows a crash kept from the store.
CREATE TABLE IF NOT EXISTS checkpoints (
    seq      INTEGER PRIMARY KEY,  -- its session record in the journal
    event_ns INTEGER NOT NULL
);
