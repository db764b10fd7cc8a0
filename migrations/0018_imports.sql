-- CSV imports of contacts (worker/contacts/import.ts), kept in the control database. An import names its
-- columns and the field each goes to, the static segment its contacts join (if any) and the rows its
-- uploader announced; its rows arrive in chunks, each a CSV document of its own, numbered from 0 and
-- taken in order. A chunk waits here until the queue writes it, all or nothing; its CSV text is dropped
-- once it is written or refused, leaving the counts and the refused rows' errors (no cell values).
CREATE TABLE imports (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,                          -- the file's name, as the uploader gave it
  columns TEXT NOT NULL,                       -- JSON array of { name, field }; field null: skipped
  segment_id TEXT,                             -- the static segment every contact imported joins
  total_rows INTEGER NOT NULL,                 -- rows announced: the progress bar's end and a bound
  next_seq INTEGER NOT NULL DEFAULT 0,         -- the chunk expected next
  received_rows INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER,                         -- set when the uploader says no more chunks come
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX imports_created ON imports (site_id, created_at);

CREATE TABLE import_chunks (
  site_id TEXT NOT NULL,
  import_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  first_row INTEGER NOT NULL,                  -- the import's row number of its first row (from 1)
  rows INTEGER NOT NULL,
  digest TEXT NOT NULL,                        -- SHA-256 of the text: the same chunk sent again is recognised
  csv TEXT,                                    -- the text, until the chunk is written or refused
  status TEXT NOT NULL CHECK (status IN ('queued', 'written', 'failed')),
  created INTEGER NOT NULL DEFAULT 0,          -- contacts the chunk created and updated, once written
  updated INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0,          -- rows refused, when it failed
  errors TEXT,                                 -- JSON array of { row, column, code, message }, the first 100
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, import_id, seq)
) WITHOUT ROWID;
