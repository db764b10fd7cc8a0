-- How long after a contact was first shown content a purchase counts as a conversion it led to, in days.
ALTER TABLE sites ADD COLUMN attribution_days INTEGER NOT NULL DEFAULT 7;
