-- The language a contact reads content in (a BCP 47 tag such as ar or pt-BR), when known: it overrides the
-- language the browser reports for content with versions per language.
ALTER TABLE contacts ADD COLUMN language TEXT;
