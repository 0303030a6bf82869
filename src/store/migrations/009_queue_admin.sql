-- 009: queues administered over the API (issue 10): strategy, the queue's own
-- maximum wait and overflow queue, hold music and wrap-up codes; a member's
-- priority; deleted queues keep their row (history still names them); the
-- interaction's wrap-up code as a field; the administrators' audit log.
ALTER TABLE queues ADD COLUMN strategy TEXT NOT NULL DEFAULT 'longest_idle';
ALTER TABLE queues ADD COLUMN overflow_queue_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN hold_music TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN wrap_up_codes TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_members ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE interactions ADD COLUMN wrap_up_code TEXT NOT NULL DEFAULT '';
CREATE TABLE audit (
  id     INTEGER PRIMARY KEY,
  at     INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  before TEXT NOT NULL DEFAULT '',
  after  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
