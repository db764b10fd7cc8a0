-- A fence against writers that read a site's placement before it moved. While a site moves, the sites row
-- of each shard it is leaving has moving_to set (and keeps it once the site has left, as a one-row
-- tombstone). Every write of the queue consumer and of the admin API to a shard starts by touching
-- write_fence on the site's row there: on a fenced row that aborts the whole transaction, which the queue
-- retries and then holds until the site has arrived, so nothing is written where a move has copied from.
ALTER TABLE sites ADD COLUMN write_fence INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER sites_write_fence BEFORE UPDATE OF write_fence ON sites
WHEN OLD.moving_to IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'site moving: its contacts cannot be written on this shard now');
END;
