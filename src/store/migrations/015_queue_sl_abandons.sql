-- 015: how a queue's service level counts the callers who hang up within
-- its threshold (issue 14; docs/WALLBOARD.md): 'met' (Amazon Connect's
-- service level X), 'excluded' (left out of it) or 'missed'.
ALTER TABLE queues ADD COLUMN sl_abandons TEXT NOT NULL DEFAULT 'met';
