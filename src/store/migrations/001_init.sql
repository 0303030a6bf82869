-- 001: users, roles, agents, queues, interactions, activity, presence history,
-- sessions, flags. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	user_name TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	mobile_phone TEXT NOT NULL DEFAULT '',
	business_phone TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL
);
CREATE TABLE roles (
	name TEXT PRIMARY KEY,
	description TEXT NOT NULL
);
INSERT INTO roles VALUES
	('sn_openframe.user', 'OpenFrame softphone user (with interaction_agent: take and place calls)'),
	('interaction_agent', 'Works interactions (with sn_openframe.user: take and place calls)'),
	('awa_agent', 'Advanced Work Assignment agent (with awa_integration_user: take and place calls)'),
	('awa_integration_user', 'AWA integration user (with awa_agent: take and place calls)'),
	('voice_manager', 'Monitors and analyses queues, agents and calls'),
	('admin', 'Configures users, roles, queues, numbers and flags');
CREATE TABLE user_roles (
	user_id INTEGER NOT NULL REFERENCES users(id),
	role TEXT NOT NULL REFERENCES roles(name),
	PRIMARY KEY (user_id, role)
);
CREATE TABLE agents (
	user_id INTEGER PRIMARY KEY REFERENCES users(id),
	presence TEXT NOT NULL DEFAULT 'Offline',
	away_reason TEXT NOT NULL DEFAULT '',
	presence_since INTEGER NOT NULL,
	capacity INTEGER NOT NULL DEFAULT 1,
	interaction_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE queues (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	priority INTEGER NOT NULL DEFAULT 0,
	sl_threshold_s INTEGER NOT NULL DEFAULT 20,
	max_wait_s INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE queue_members (
	queue_id INTEGER NOT NULL REFERENCES queues(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	PRIMARY KEY (queue_id, user_id)
);
CREATE TABLE interactions (
	id INTEGER PRIMARY KEY,
	number TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	direction TEXT NOT NULL,
	state TEXT NOT NULL,
	queued INTEGER NOT NULL DEFAULT 0,
	caller_number TEXT NOT NULL DEFAULT '',
	queue_id INTEGER NOT NULL DEFAULT 0,
	agent_user_id INTEGER NOT NULL DEFAULT 0,
	linked_table TEXT NOT NULL DEFAULT '',
	linked_number TEXT NOT NULL DEFAULT '',
	opened_at INTEGER NOT NULL,
	closed_at INTEGER NOT NULL DEFAULT 0,
	close_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX interactions_state ON interactions(state, id);
CREATE INDEX interactions_agent ON interactions(agent_user_id, id);
CREATE INDEX interactions_queue ON interactions(queue_id, id);
CREATE INDEX interactions_opened ON interactions(opened_at);
CREATE TABLE conversations (
	id INTEGER PRIMARY KEY,
	interaction_id INTEGER NOT NULL REFERENCES interactions(id),
	source_table TEXT NOT NULL,
	source_number TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE activity (
	id INTEGER PRIMARY KEY,
	interaction_id INTEGER NOT NULL REFERENCES interactions(id),
	at INTEGER NOT NULL,
	kind TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL
);
CREATE INDEX activity_interaction ON activity(interaction_id, id);
CREATE TABLE presence_history (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	at INTEGER NOT NULL,
	from_state TEXT NOT NULL,
	to_state TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	interaction_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX presence_history_user ON presence_history(user_id, at);
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE TABLE flags (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
