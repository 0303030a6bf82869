-- 010: quick connects (issue 12): the external numbers an administrator
-- defines, which agents pick to transfer a call to. Names are unique in any
-- ASCII case, as the API checks them; AUTOINCREMENT keeps a deleted row's id
-- from coming back after a restart (the API names rows by id).
CREATE TABLE quick_connects (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  name   TEXT NOT NULL,
  number TEXT NOT NULL
);
CREATE UNIQUE INDEX quick_connects_name ON quick_connects(name COLLATE NOCASE);
