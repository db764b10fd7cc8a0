-- Identity a site can trust. Each site gets an identity secret its own server signs visitors' emails and
-- external ids with; what a browser says without a signature is kept apart as a claim; an admin merge
-- keeps every identifier of both contacts; erased contacts leave their ids behind so that nothing still
-- in flight brings them back.

-- The secret is generated here for sites that predate it (160 random bits); the API shows a new one once.
ALTER TABLE sites ADD COLUMN identity_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN identity_secret_created_at INTEGER NOT NULL DEFAULT 0;
-- 1: an unsigned identify is believed (the behaviour before signed identity); off unless the owner says so.
ALTER TABLE sites ADD COLUMN trust_unsigned_identify INTEGER NOT NULL DEFAULT 0;
UPDATE sites SET identity_secret = 'idsec_' || lower(hex(randomblob(20))), identity_secret_created_at = updated_at;

-- An email or external id a browser gave without a valid signature. Not unique, never used to find,
-- link or merge a contact, and not read by conditions: contacts.email and contacts.external_id hold
-- only identifiers that were verified (signed, or set by an admin).
ALTER TABLE contacts ADD COLUMN claimed_email TEXT;
ALTER TABLE contacts ADD COLUMN claimed_external_id TEXT;

-- Identifiers a contact holds besides its own email and external id: those of the contacts merged into
-- it whose place it had already taken. Verified ones still find the contact, so each is unique in a site.
CREATE TABLE contact_identities (
  site_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('email', 'external_id')),
  value TEXT NOT NULL,
  verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, contact_id, kind, value)
) WITHOUT ROWID;

CREATE UNIQUE INDEX contact_identities_verified ON contact_identities (site_id, kind, value) WHERE verified = 1;

-- How an alias came to be (a browser's signed identify, or an admin merge), and the merged contact's own
-- values at that moment (JSON), so a merge loses nothing the surviving contact already had a value for.
ALTER TABLE contact_aliases ADD COLUMN source TEXT NOT NULL DEFAULT 'identify';
ALTER TABLE contact_aliases ADD COLUMN kept TEXT;

-- Ids of erased contacts (and of the ids that pointed at them). The queue consumer drops any message that
-- names one, so a visit in flight cannot recreate an erased contact. Only ids: nothing personal.
CREATE TABLE erased_contacts (
  site_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  erased_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, contact_id)
) WITHOUT ROWID;

CREATE INDEX erased_contacts_at ON erased_contacts (erased_at);

-- Nothing brings back a contact id that was erased or merged into another: not a visit written after the
-- erasure or merge that its writer checked for too early, not an import. The writer sees the refusal, and
-- its next attempt finds the id erased (and drops it) or merged (and follows it).
CREATE TRIGGER contacts_erased_or_merged BEFORE INSERT ON contacts
WHEN EXISTS (SELECT 1 FROM erased_contacts WHERE site_id = NEW.site_id AND contact_id = NEW.id)
  OR EXISTS (SELECT 1 FROM contact_aliases WHERE site_id = NEW.site_id AND alias_id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'contact id erased or merged into another contact');
END;
