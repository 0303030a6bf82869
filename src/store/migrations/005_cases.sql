-- 005: cases (a small service-management record, SPEC.md §3). The flows'
-- bot reads a caller's latest case to answer "what is the status of my
-- case" by itself (docs/FLOWS.md); the REST API for records comes later.
-- The contact is a user, as in ServiceNow, where a customer contact is a
-- kind of user (customer_contact extends sys_user); consumers come later.
CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  contact_user_id INTEGER REFERENCES users(id),
  short_description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'New',
  opened_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX cases_contact ON cases(contact_user_id, updated_at);
