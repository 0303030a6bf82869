-- 002: voice core. Agents' SIP credentials (HA1 only), dialled numbers that
-- lead to queues, and the trunks allowed to send calls.
ALTER TABLE users ADD COLUMN sip_ha1 TEXT NOT NULL DEFAULT '';
CREATE TABLE numbers (
	did TEXT PRIMARY KEY,
	queue_id INTEGER NOT NULL REFERENCES queues(id),
	description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE trunks (
	name TEXT PRIMARY KEY,
	address TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT ''
);
