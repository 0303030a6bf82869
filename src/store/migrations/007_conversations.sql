-- 007: conversation records for outgoing calls (SPEC.md §3, seed "Initiating
-- outbound calls"). 001 made the table (interaction, source record), this
-- gives each row its number (CNV...), the agent, and which flag asked for it.
-- The three flags are seeded, Voice core createConversation on, the two
-- applications' flags off (docs/DOMAIN.md, "Conversations").
ALTER TABLE conversations ADD COLUMN number TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN agent_user_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN flag TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX conversations_number ON conversations(number) WHERE number != '';
CREATE INDEX conversations_interaction ON conversations(interaction_id, id);
INSERT OR IGNORE INTO flags(name, value) VALUES
  ('createConversation', 'true'),
  ('sn_cti_csm_cnt.enable_ims_update', 'false'),
  ('sn_cti_itsm_cnt.enable_ims_update', 'false');
