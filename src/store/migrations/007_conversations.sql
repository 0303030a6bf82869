-- 007: conversation records for outgoing calls (SPEC.md §3, seed "Initiating
-- outbound calls"). One row per conversation, linked to the interaction of
-- the call and to the record it was placed from; `flag` says which flag
-- asked for it. The three flags are seeded: Voice core's createConversation
-- on, the two applications' off (docs/DOMAIN.md, "Conversations").
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  interaction_id INTEGER NOT NULL REFERENCES interactions(id),
  linked_table TEXT NOT NULL DEFAULT '',
  linked_number TEXT NOT NULL DEFAULT '',
  agent_user_id INTEGER NOT NULL DEFAULT 0,
  flag TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX conversations_interaction ON conversations(interaction_id);
INSERT OR IGNORE INTO flags(name, value) VALUES
  ('createConversation', 'true'),
  ('sn_cti_csm_cnt.enable_ims_update', 'false'),
  ('sn_cti_itsm_cnt.enable_ims_update', 'false');
