-- The write side at real-site scale. A contact's activity aggregates (what its snapshot counts: totals,
-- and the recent activities of windowed conditions) are kept beside its row, so a visit is written by
-- folding its activities into them rather than re-reading the contact's whole history; `state_rev`
-- counts the writes of them, so two writers of one contact cannot lose each other's activities.
ALTER TABLE contacts ADD COLUMN aggregates TEXT;
ALTER TABLE contacts ADD COLUMN state_rev INTEGER NOT NULL DEFAULT 0;

-- A writer of aggregates sets state_rev to one more than what it read: another writer's change meanwhile
-- aborts the whole transaction, which the queue retries on what is then stored.
CREATE TRIGGER contacts_state_moved BEFORE UPDATE OF state_rev ON contacts
WHEN NEW.state_rev <> OLD.state_rev + 1
BEGIN
  SELECT RAISE(ABORT, 'contact state moved: another writer changed it meanwhile');
END;

-- An erased contact's dead letters are found by contact, not by walking the site's.
CREATE INDEX dead_letters_contact ON dead_letters (site_id, contact_id);

-- Statistics for the query planner, as Cloudflare recommends after creating indexes.
PRAGMA optimize;
