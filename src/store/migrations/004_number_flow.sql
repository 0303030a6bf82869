-- 004: a dialled number may run a call flow (docs/FLOWS.md) instead of
-- leading straight to a queue: the flow's name, "" = straight to queue_id.
ALTER TABLE numbers ADD COLUMN flow TEXT NOT NULL DEFAULT '';
