-- How many contacts passed each workflow node and branch, day by day: a HyperLogLog sketch per node,
-- branch and UTC day (worker/reports/distinct.ts), one row per register a contact set. A contact sets the
-- same register everywhere, so days and shards merge by each register's largest rank. `node` is '' for the
-- Start node; `branch` is '' for reaching the node, else the branch it left by (yes, no, next, a variant).
-- No contact id is kept. Rows older than 31 days are pruned by the cron.
CREATE TABLE node_registers (
  site_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  node TEXT NOT NULL,
  branch TEXT NOT NULL,
  register INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  PRIMARY KEY (site_id, workflow_id, day, node, branch, register)
) WITHOUT ROWID;
CREATE INDEX node_registers_day ON node_registers (site_id, day);
