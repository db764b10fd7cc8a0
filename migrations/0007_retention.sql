-- Data has a lifetime: each site keeps raw activities, and anonymous contacts not seen, for a number of days
-- (396 by default: 13 months, so that "this month last year" is still there). The cron prunes past them.
ALTER TABLE sites ADD COLUMN activity_retention_days INTEGER NOT NULL DEFAULT 396;
ALTER TABLE sites ADD COLUMN anonymous_retention_days INTEGER NOT NULL DEFAULT 396;

-- Anonymous contacts (no verified email or external id) by when they were last seen, or made when never
-- seen: the cron finds the oldest of a site without walking it. Known contacts have no entry, so only an
-- anonymous contact's visits move one (about 50 bytes a contact). Old activities are found through
-- events_type (site_id, type, at), one seek per type, so events need no new index.
CREATE INDEX contacts_anonymous_seen ON contacts (site_id, coalesce(last_seen_at, created_at))
  WHERE email IS NULL AND external_id IS NULL;
