-- 003: trunks that authenticate with digest credentials (a carrier that
-- cannot be recognised by its source address). HA1 only, as for agents.
ALTER TABLE trunks ADD COLUMN username TEXT NOT NULL DEFAULT '';
ALTER TABLE trunks ADD COLUMN sip_ha1 TEXT NOT NULL DEFAULT '';
