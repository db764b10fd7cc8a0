-- Sites, contacts, their activities, segments and segment members.
-- Every table carries site_id; times are epoch milliseconds (INTEGER) unless a column says otherwise.

CREATE TABLE sites (
  site_id TEXT PRIMARY KEY,
  site_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  allowed_origins TEXT NOT NULL DEFAULT '[]',  -- JSON array of origins
  fields TEXT NOT NULL DEFAULT '[]',           -- JSON array of custom field definitions { key, type, label }
  browser_fields TEXT NOT NULL DEFAULT '[]',   -- JSON array of field keys a browser may set on identify
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE contacts (
  site_id TEXT NOT NULL REFERENCES sites (site_id),
  id TEXT NOT NULL,
  email TEXT,                                  -- stored lower-cased
  external_id TEXT,
  first_name TEXT,
  last_name TEXT,
  birth_date TEXT,                             -- YYYY-MM-DD
  gender TEXT,
  country TEXT,
  city TEXT,
  phone TEXT,
  newsletter TEXT,
  custom TEXT NOT NULL DEFAULT '{}',           -- JSON object of custom field values
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX contacts_email ON contacts (site_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_external_id ON contacts (site_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_name ON contacts (site_id, last_name COLLATE NOCASE, first_name COLLATE NOCASE);

CREATE TABLE events (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('page_visit', 'purchase', 'identify', 'custom', 'content')),
  at INTEGER NOT NULL,
  url TEXT,
  title TEXT,
  referrer TEXT,
  name TEXT,                                   -- custom event name; shown / clicked / closed for content
  content_id TEXT,
  order_id TEXT,
  amount_milli INTEGER,                        -- purchase amount in thousandths, so sums are exact
  currency TEXT,
  props TEXT,                                  -- JSON object of custom properties
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

CREATE INDEX events_contact ON events (site_id, contact_id, type, at);

CREATE TABLE segments (
  site_id TEXT NOT NULL REFERENCES sites (site_id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL CHECK (type IN ('static', 'dynamic')),
  conditions TEXT,                             -- JSON condition tree, dynamic segments only
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX segments_name ON segments (site_id, name COLLATE NOCASE);

CREATE TABLE segment_members (
  site_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  since INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('manual', 'workflow', 'rule')),
  PRIMARY KEY (site_id, segment_id, contact_id)
) WITHOUT ROWID;

CREATE INDEX segment_members_contact ON segment_members (site_id, contact_id);
