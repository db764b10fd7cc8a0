-- Hardening: event ids unique per contact, queue messages written once, messages that cannot be written
-- kept for an admin, and the limits a site sets for its public endpoint.

-- Event ids are unique per contact, not per site: two contacts may each have an order "order-1001".
-- SQLite cannot change a primary key in place, so the table is rebuilt (rows copied in key order).
CREATE TABLE events_by_contact (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('page_visit', 'purchase', 'identify', 'custom', 'content')),
  at INTEGER NOT NULL,
  url TEXT,
  title TEXT,
  referrer TEXT,
  name TEXT,
  content_id TEXT,
  order_id TEXT,
  amount_milli INTEGER,
  currency TEXT,
  props TEXT,
  PRIMARY KEY (site_id, contact_id, id)
) WITHOUT ROWID;

INSERT INTO events_by_contact (site_id, id, contact_id, type, at, url, title, referrer, name, content_id, order_id, amount_milli, currency, props)
SELECT site_id, id, contact_id, type, at, url, title, referrer, name, content_id, order_id, amount_milli, currency, props FROM events
ORDER BY site_id, contact_id, id;

DROP TABLE events;
ALTER TABLE events_by_contact RENAME TO events;
CREATE INDEX events_contact ON events (site_id, contact_id, type, at);
CREATE INDEX events_type ON events (site_id, type, at);

-- The version (the edge's time) of the newest visit written to a contact: a visit delivered late, after a
-- newer one, adds its events and counters but does not set fields or static memberships back.
ALTER TABLE contacts ADD COLUMN written_v INTEGER NOT NULL DEFAULT 0;

-- Visit messages the consumer has written (each carries an id from the edge): a message delivered again
-- changes nothing, and limitation counters add up exactly once. `attempt` is the writing transaction's
-- own nonce: a counter is added only by the transaction that recorded the message.
CREATE TABLE processed_messages (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  attempt TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

CREATE INDEX processed_messages_at ON processed_messages (at);

-- Queue messages that could not be written (retried in vain, or refused for a reason retrying cannot fix),
-- or written only in part. Shown in the console with the reason; a held message can be replayed.
CREATE TABLE dead_letters (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  contact_id TEXT,
  body TEXT NOT NULL,                          -- the message as JSON
  reason TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('held', 'partly written')),
  created_at INTEGER NOT NULL
);

CREATE INDEX dead_letters_site ON dead_letters (site_id, created_at);

-- The limits of a site's public endpoint: a tier of request rates (per visitor and per site, enforced by
-- Cloudflare's rate-limiting bindings), the largest event stored, and what one contact may store a day.
ALTER TABLE sites ADD COLUMN rate_limit TEXT NOT NULL DEFAULT 'standard' CHECK (rate_limit IN ('strict', 'standard', 'relaxed'));
ALTER TABLE sites ADD COLUMN max_event_bytes INTEGER NOT NULL DEFAULT 4096;
ALTER TABLE sites ADD COLUMN max_contact_bytes_per_day INTEGER NOT NULL DEFAULT 262144;
