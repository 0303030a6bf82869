-- 014: report aggregates (issue 14 points 5-6, docs/REPORTS.md). One row per
-- (kind, queue or agent, interval): sums and counts that a report adds up
-- and rolls into longer intervals. Kept by the store in the same
-- transaction as each contact trace record write (the record's old
-- contribution out, its new one in) and each presence change, at two
-- grains: 15 minutes (kinds 1, 2) and the UTC hour (kinds 11, 12: the
-- 15-minute rows already rolled up, so that a month by hour or day reads
-- a quarter of the rows). Times are ms since 1970; bucket is the interval's
-- start.
CREATE TABLE rep_agg (
	kind INTEGER NOT NULL,		-- 1 queue, 2 agent; +10: by hour
	id INTEGER NOT NULL,		-- queue id or agent's user id
	bucket INTEGER NOT NULL,
	offered INTEGER NOT NULL DEFAULT 0,
	answered INTEGER NOT NULL DEFAULT 0,
	answered_in_sl INTEGER NOT NULL DEFAULT 0,
	abandoned INTEGER NOT NULL DEFAULT 0,
	abandoned_in_sl INTEGER NOT NULL DEFAULT 0,
	answer_wait_ms INTEGER NOT NULL DEFAULT 0,
	abandon_wait_ms INTEGER NOT NULL DEFAULT 0,
	handled INTEGER NOT NULL DEFAULT 0,
	outbound INTEGER NOT NULL DEFAULT 0,
	talk_ms INTEGER NOT NULL DEFAULT 0,
	hold_ms INTEGER NOT NULL DEFAULT 0,
	holds INTEGER NOT NULL DEFAULT 0,
	acw_ms INTEGER NOT NULL DEFAULT 0,
	acw_count INTEGER NOT NULL DEFAULT 0,
	transfers_in INTEGER NOT NULL DEFAULT 0,
	transfers_out INTEGER NOT NULL DEFAULT 0,
	missed_offers INTEGER NOT NULL DEFAULT 0,
	p_available_ms INTEGER NOT NULL DEFAULT 0,
	p_away_ms INTEGER NOT NULL DEFAULT 0,
	p_calling_ms INTEGER NOT NULL DEFAULT 0,
	p_busy_ms INTEGER NOT NULL DEFAULT 0,
	p_acw_ms INTEGER NOT NULL DEFAULT 0,
	p_failed_ms INTEGER NOT NULL DEFAULT 0,
	p_missed_ms INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, bucket, id)
) WITHOUT ROWID;
-- built = 0: the aggregates are to be (re)built from the ctr and
-- presence_history tables when the store opens (set it to 0 to rebuild).
CREATE TABLE rep_state (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	built INTEGER NOT NULL
);
INSERT INTO rep_state VALUES (1, 0);
-- the drill-down: the segments behind a queue's or an agent's interval
CREATE INDEX ctr_queue_enqueue ON ctr(queue_id, enqueue_at);
CREATE INDEX ctr_agent_connected ON ctr(agent_user_id, connected_to_agent_at);
