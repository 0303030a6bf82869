-- 013: call transcripts (issue 13, items 4-8; docs/TRANSCRIPTS.md). One row
-- per transcribed interaction: the job's status (queued -> running -> done
-- | failed; queued and running rows are the work a restart resumes), the
-- engine, why it was asked for (policy | on_demand, and by whom), the
-- utterances as JSON ([{"channel","start_ms","end_ms","text"}], redacted
-- when redaction is on), their words as plain text for the search, and what
-- it cost. transcript_fts indexes that text (FTS5, external content kept in
-- step by triggers). transcript_policy: the share of each queue's recorded
-- calls to transcribe (0..100); queue_id 0 is every queue without a row.
CREATE TABLE transcripts (
  interaction_id INTEGER PRIMARY KEY REFERENCES interactions(id),
  status         TEXT NOT NULL,              -- queued | running | done | failed
  engine         TEXT NOT NULL DEFAULT '',
  reason         TEXT NOT NULL DEFAULT '',   -- policy | on_demand
  requested_by   TEXT NOT NULL DEFAULT '',   -- a user_name, "" = the policy
  redacted       INTEGER NOT NULL DEFAULT 0, -- items replaced by [redacted]
  utterances     TEXT NOT NULL DEFAULT '[]',
  text           TEXT NOT NULL DEFAULT '',
  error          TEXT NOT NULL DEFAULT '',
  audio_ms       INTEGER NOT NULL DEFAULT 0, -- both channels' length
  decode_ms      INTEGER NOT NULL DEFAULT 0, -- CPU time on the decoders
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX transcripts_pending ON transcripts(status) WHERE status IN ('queued', 'running');
CREATE VIRTUAL TABLE transcript_fts USING fts5(text, content='transcripts',
  content_rowid='interaction_id');
CREATE TRIGGER transcripts_ai AFTER INSERT ON transcripts BEGIN
  INSERT INTO transcript_fts(rowid, text) VALUES (new.interaction_id, new.text);
END;
CREATE TRIGGER transcripts_au AFTER UPDATE OF text ON transcripts BEGIN
  INSERT INTO transcript_fts(transcript_fts, rowid, text)
    VALUES ('delete', old.interaction_id, old.text);
  INSERT INTO transcript_fts(rowid, text) VALUES (new.interaction_id, new.text);
END;
CREATE TABLE transcript_policy (
  queue_id INTEGER PRIMARY KEY,  -- 0 = the default for every other queue
  percent  INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100)
);
INSERT INTO transcript_policy(queue_id, percent) VALUES (0, 100);
