-- 006: the records the workspace's forms show (SPEC.md §3, docs/DOMAIN.md
-- "Records"): contacts (CON…, of an account) and consumers (CSM…), a case's
-- contact as a contact or a consumer as well as a user, and incidents
-- (INC…) whose caller is a user. *_digits hold only the digits of a phone
-- (written by the store), indexed on their last 7 digits for search by
-- phone and caller identification (a number with or without its country
-- code shares them).
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  mobile_phone TEXT NOT NULL DEFAULT '',
  business_phone TEXT NOT NULL DEFAULT '',
  mobile_digits TEXT NOT NULL DEFAULT '',
  business_digits TEXT NOT NULL DEFAULT '',
  account TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_mobile ON contacts(substr(mobile_digits, -7));
CREATE INDEX contacts_business ON contacts(substr(business_digits, -7));
CREATE TABLE consumers (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  mobile_phone TEXT NOT NULL DEFAULT '',
  business_phone TEXT NOT NULL DEFAULT '',
  mobile_digits TEXT NOT NULL DEFAULT '',
  business_digits TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX consumers_mobile ON consumers(substr(mobile_digits, -7));
CREATE INDEX consumers_business ON consumers(substr(business_digits, -7));
-- At most one of contact_user_id, contact_id and consumer_id is set.
ALTER TABLE cases ADD COLUMN contact_id INTEGER REFERENCES contacts(id);
ALTER TABLE cases ADD COLUMN consumer_id INTEGER REFERENCES consumers(id);
CREATE INDEX cases_contact_id ON cases(contact_id, updated_at);
CREATE INDEX cases_consumer_id ON cases(consumer_id, updated_at);
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  caller_user_id INTEGER REFERENCES users(id),
  short_description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'New',
  opened_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX incidents_caller ON incidents(caller_user_id, updated_at);
