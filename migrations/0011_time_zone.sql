-- A site's time zone (an IANA name): schedules of its workflows and content are read in it.
ALTER TABLE sites ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
