/**
 * The schema, as ordered migrations. Applied by `migrate()` in one transaction each; never by
 * hand. stock_trades is exactly the seed's table; the others are ours
 * (docs/architecture.md#tables).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'stock_trades',
    sql: `
CREATE TABLE IF NOT EXISTS stock_trades (
  trade_id VARCHAR(255) PRIMARY KEY,
  ticker VARCHAR(10) NOT NULL,
  price NUMERIC(10,4) NOT NULL,
  volume INT NOT NULL,
  trade_timestamp TIMESTAMPTZ NOT NULL
);`,
  },
  {
    version: 2,
    name: 'candles, alerts, dead letters',
    sql: `
CREATE TABLE IF NOT EXISTS trade_candles (
  ticker VARCHAR(10) NOT NULL,
  window_start TIMESTAMPTZ NOT NULL,
  window_end TIMESTAMPTZ NOT NULL,
  open NUMERIC(10,4) NOT NULL,
  high NUMERIC(10,4) NOT NULL,
  low NUMERIC(10,4) NOT NULL,
  close NUMERIC(10,4) NOT NULL,
  volume BIGINT NOT NULL,
  vwap NUMERIC(10,4) NOT NULL,
  trade_count INT NOT NULL,
  PRIMARY KEY (ticker, window_start)
);
CREATE TABLE IF NOT EXISTS trade_alerts (
  alert_id VARCHAR(300) PRIMARY KEY,
  kind VARCHAR(32) NOT NULL,
  trade_id VARCHAR(255) NOT NULL,
  ticker VARCHAR(10) NOT NULL,
  price NUMERIC(10,4) NOT NULL,
  volume INT NOT NULL,
  trade_timestamp TIMESTAMPTZ NOT NULL,
  threshold BIGINT,
  baseline_mean NUMERIC(20,4),
  factor NUMERIC(8,2),
  lookback INT,
  detected_at TIMESTAMPTZ NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trade_alerts_detected_at ON trade_alerts (detected_at);
CREATE TABLE IF NOT EXISTS dead_letters (
  id BIGSERIAL PRIMARY KEY,
  received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  reason_code VARCHAR(32) NOT NULL,
  reason TEXT NOT NULL,
  raw BYTEA NOT NULL,
  source VARCHAR(1024) NOT NULL,
  source_partition INT NOT NULL,
  source_offset BIGINT NOT NULL,
  CONSTRAINT dead_letters_position UNIQUE (source, source_partition, source_offset)
);`,
  },
  {
    version: 3,
    name: 'consumer checkpoints',
    // One row per consumer group and input partition: the next offset to read and the engine
    // state of that partition's tickers, written in the transaction that stored their effects.
    sql: `
CREATE TABLE IF NOT EXISTS tickflow_checkpoints (
  group_id VARCHAR(255) NOT NULL,
  topic VARCHAR(255) NOT NULL,
  partition INT NOT NULL,
  spec VARCHAR(64) NOT NULL,
  next_offset BIGINT NOT NULL,
  state JSONB NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);`,
  },
  {
    version: 4,
    name: 'alert rules',
    // Alerts name their rule and severity and carry the fields of the newer rule kinds. Rows
    // from before rules files were written by the rules `large` and `spike` (their alert_id
    // prefix) at the default severity.
    sql: `
ALTER TABLE trade_alerts
  ADD COLUMN IF NOT EXISTS rule VARCHAR(64),
  ADD COLUMN IF NOT EXISTS severity VARCHAR(16),
  ADD COLUMN IF NOT EXISTS amount NUMERIC(20,2),
  ADD COLUMN IF NOT EXISTS notional NUMERIC(24,4),
  ADD COLUMN IF NOT EXISTS reference_price NUMERIC(10,4),
  ADD COLUMN IF NOT EXISTS change_percent NUMERIC(10,2),
  ADD COLUMN IF NOT EXISTS window_seconds INT;
UPDATE trade_alerts SET rule = split_part(alert_id, ':', 1) WHERE rule IS NULL;
UPDATE trade_alerts SET severity = 'warning' WHERE severity IS NULL;
ALTER TABLE trade_alerts ALTER COLUMN rule SET NOT NULL, ALTER COLUMN severity SET NOT NULL;
CREATE INDEX IF NOT EXISTS trade_alerts_rule ON trade_alerts (rule);`,
  },
  {
    version: 5,
    name: 'alert forwarding',
    // `run --forward`: one row per destination (the SHA-256 of its target: a Slack URL is a
    // secret) and alert, inserted in the transaction that stored the alert, so an alert cannot be
    // stored without being queued. settled_at stays null until the endpoint took the alert (or
    // refused it for good, or it was named in a delivered summary); the row then stays, without
    // its JSON, as the memory that keeps the alert_id from being sent there again. seq is the
    // order of delivery, and the pending index what a restart reads first.
    sql: `
CREATE TABLE IF NOT EXISTS tickflow_forwarding (
  destination CHAR(64) NOT NULL,
  alert_id VARCHAR(300) NOT NULL,
  seq BIGSERIAL NOT NULL,
  alert TEXT,
  queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  settled_at TIMESTAMPTZ,
  PRIMARY KEY (destination, alert_id)
);
CREATE INDEX IF NOT EXISTS tickflow_forwarding_pending ON tickflow_forwarding (destination, seq) WHERE settled_at IS NULL;`,
  },
];

export const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS tickflow_migrations (
  version INT PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);`;
