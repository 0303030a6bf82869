-- 008: agents' phone registrations survive a restart (issue 10). One current
-- binding per agent, with its expiry; rows past their expiry are ignored at
-- load and removed by the registrar's sweep.
CREATE TABLE sip_bindings (
  user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  contact    TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
