-- The write side at real-site scale. A contact's activity aggregates (what its snapshot counts: totals,
-- and the recent activities of windowed conditions) are kept beside its row, so a visit is written by
-- folding its activities into them rather than re-reading the contact's whole history; `state_rev`
-- counts the writes of them, so two writers of one contact cannot lose each other's activities.
ALTER TABLE contacts ADD COLUMN aggregates TEXT;
ALTER TABLE contacts ADD COLUMN state_rev INTEGER NOT NULL DEFAULT 0;

-- An erased contact's dead letters are found by contact, not by walking the site's.
CREATE INDEX dead_letters_contact ON dead_letters (site_id, contact_id);

-- Statistics for the query planner, as Cloudflare recommends after creating indexes.
PRAGMA optimize;
