-- Campaigns. Workflows run in the order the owner sets: a smaller priority first (ties: the older first).
-- When two would show interruptive content on the same request, only the first shows.
ALTER TABLE workflows ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
