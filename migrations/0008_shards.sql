-- Several databases: a control database (binding DB) and data shards (SHARD_<n>), all brought to the same
-- migrations; each uses only its own tables (worker/data/shards.ts).
--
-- In the control database, a site's placement: the bindings of the shards its contact data lives on, a
-- contact on the one a hash of its id picks. Sites made before shards existed keep their data where it
-- is, in the control database, which acts as their one shard.
ALTER TABLE sites ADD COLUMN shards TEXT NOT NULL DEFAULT '["DB"]';

-- In a shard, the sites table holds a row for each site placed on it, so that contacts' reference to their
-- site holds; only site_id is read there (siteOnShard in worker/data/sites.ts).

-- A site being moved to other shards: the placement it is going to (JSON, as shards), NULL otherwise.
-- While set, its visits wait in the queue and its contacts cannot be changed by an admin.
ALTER TABLE sites ADD COLUMN moving_to TEXT;
