-- Segment trends: per segment and UTC day, the contacts that entered and left it (kept by triggers as
-- memberships are written, on the database that holds them) and its member count at the day's scheduled
-- pass (written by the cron). A site's figures are the sums over its shards. Days older than 400 are
-- pruned by the cron.
CREATE TABLE segment_days (
  site_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  members INTEGER,
  entered INTEGER NOT NULL DEFAULT 0,
  exited INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, segment_id, day)
) WITHOUT ROWID;
CREATE INDEX segment_days_day ON segment_days (site_id, day);

CREATE TRIGGER segment_members_entered AFTER INSERT ON segment_members
BEGIN
  INSERT INTO segment_days (site_id, segment_id, day, entered) VALUES (NEW.site_id, NEW.segment_id, unixepoch('now') / 86400, 1)
  ON CONFLICT DO UPDATE SET entered = entered + 1;
END;

CREATE TRIGGER segment_members_exited AFTER DELETE ON segment_members
BEGIN
  INSERT INTO segment_days (site_id, segment_id, day, exited) VALUES (OLD.site_id, OLD.segment_id, unixepoch('now') / 86400, 1)
  ON CONFLICT DO UPDATE SET exited = exited + 1;
END;
