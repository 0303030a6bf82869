-- 011: contact trace records (SPEC.md §7, docs/CTR.md): one row per
-- contact segment of an interaction, written by routing when the segment's
-- contact ends and replaced when its after-contact work ends. Times are ms
-- since 1970 (0 = none), durations ms. The interaction keeps the sums of
-- its segments' durations, recomputed by every CTR write.
CREATE TABLE ctr (
	contact_id TEXT PRIMARY KEY,
	interaction_id INTEGER NOT NULL REFERENCES interactions(id),
	segment INTEGER NOT NULL,
	initial_contact_id TEXT NOT NULL,
	previous_contact_id TEXT NOT NULL DEFAULT '',
	next_contact_id TEXT NOT NULL DEFAULT '',
	channel TEXT NOT NULL DEFAULT 'VOICE',
	initiation_method TEXT NOT NULL,
	customer_endpoint TEXT NOT NULL DEFAULT '',
	system_endpoint TEXT NOT NULL DEFAULT '',
	transfer_type TEXT NOT NULL DEFAULT '',
	transferred_to TEXT NOT NULL DEFAULT '',
	initiation_at INTEGER NOT NULL,
	connected_to_system_at INTEGER NOT NULL DEFAULT 0,
	disconnect_at INTEGER NOT NULL DEFAULT 0,
	last_update_at INTEGER NOT NULL,
	queue_id INTEGER NOT NULL DEFAULT 0,
	queue TEXT NOT NULL DEFAULT '',
	enqueue_at INTEGER NOT NULL DEFAULT 0,
	dequeue_at INTEGER NOT NULL DEFAULT 0,
	queue_ms INTEGER NOT NULL DEFAULT 0,
	agent_user_id INTEGER NOT NULL DEFAULT 0,
	agent TEXT NOT NULL DEFAULT '',
	agent_name TEXT NOT NULL DEFAULT '',
	connected_to_agent_at INTEGER NOT NULL DEFAULT 0,
	talk_ms INTEGER NOT NULL DEFAULT 0,
	hold_ms INTEGER NOT NULL DEFAULT 0,
	holds INTEGER NOT NULL DEFAULT 0,
	longest_hold_ms INTEGER NOT NULL DEFAULT 0,
	acw_start_at INTEGER NOT NULL DEFAULT 0,
	acw_end_at INTEGER NOT NULL DEFAULT 0,
	acw_ms INTEGER NOT NULL DEFAULT 0,
	wrap_up_code TEXT NOT NULL DEFAULT '',
	connection_attempts INTEGER NOT NULL DEFAULT 0,
	missed_offers INTEGER NOT NULL DEFAULT 0,
	intent TEXT NOT NULL DEFAULT '',
	recording TEXT NOT NULL DEFAULT '',
	disconnect_reason TEXT NOT NULL DEFAULT '',
	attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX ctr_segment ON ctr(interaction_id, segment);
CREATE INDEX ctr_agent ON ctr(agent_user_id, initiation_at);
CREATE INDEX ctr_queue ON ctr(queue_id, initiation_at);
ALTER TABLE interactions ADD COLUMN talk_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN queue_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN acw_ms INTEGER NOT NULL DEFAULT 0;
