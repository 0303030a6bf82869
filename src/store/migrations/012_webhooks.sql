-- 012: webhooks (issue 13, item 3; docs/WEBHOOKS.md): the endpoints an
-- administrator configures, and the durable outbox of their deliveries.
-- An event of a committed change is fanned out to one outbox row per active
-- webhook that takes its type, in the change's own transaction; a row is
-- pending until delivered (a 2xx) or given up after the retention. seq is
-- the commit order (deliveries go in seq order per webhook); id is the
-- delivery id the receiver sees on every attempt ("<event id>-<webhook id>").
-- AUTOINCREMENT: a deleted webhook's id (and seq) never comes back.
CREATE TABLE webhooks (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  url        TEXT NOT NULL,
  secret     TEXT NOT NULL,
  events     TEXT NOT NULL,            -- "ctr,interaction,presence", a subset
  active     INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE webhook_outbox (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL UNIQUE,
  webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id        TEXT NOT NULL,
  event           TEXT NOT NULL,       -- ctr | interaction | presence
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  delivered_at    INTEGER,             -- NULL: not delivered
  expired_at      INTEGER,             -- NULL: not given up
  last_status     INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox(webhook_id, seq)
  WHERE delivered_at IS NULL AND expired_at IS NULL;
-- the hourly purge of what was delivered or given up before the retention
CREATE INDEX webhook_outbox_done ON webhook_outbox(coalesce(delivered_at, expired_at));
