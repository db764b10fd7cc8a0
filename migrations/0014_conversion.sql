-- What counts as a conversion on a site: a purchase (NULL) or a custom event of this name.
ALTER TABLE sites ADD COLUMN conversion_event TEXT;
