-- A site's fatigue caps: at most this many pieces of interruptive content (popups, slide-ins) a visitor is
-- shown in a session, and in a day; NULL for no cap.
ALTER TABLE sites ADD COLUMN max_interruptive_per_session INTEGER;
ALTER TABLE sites ADD COLUMN max_interruptive_per_day INTEGER;
