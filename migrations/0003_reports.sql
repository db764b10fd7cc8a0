-- The console's overview counts content events (shown, clicked, closed) by time across a whole site.
CREATE INDEX events_type ON events (site_id, type, at);
