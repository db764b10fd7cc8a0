-- Content, workflows, the counters behind node limitations, and the ids of contacts merged into others.

CREATE TABLE content (
  site_id TEXT NOT NULL REFERENCES sites (site_id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,                          -- JSON: format, position, title, body, image, cta, display...
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

CREATE TABLE workflows (
  site_id TEXT NOT NULL REFERENCES sites (site_id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
  graph TEXT NOT NULL,                         -- JSON: start, entry, nodes
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

-- How often, and when last, a node with a limitation ran for a contact.
CREATE TABLE workflow_counters (
  site_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  runs INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, contact_id, workflow_id, node_id)
) WITHOUT ROWID;

-- An anonymous contact merged into a known one on identify: its old id keeps pointing at the survivor.
CREATE TABLE contact_aliases (
  site_id TEXT NOT NULL,
  alias_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, alias_id)
) WITHOUT ROWID;

CREATE INDEX contact_aliases_contact ON contact_aliases (site_id, contact_id);
