-- Where the console's canvas draws each node of a workflow: a JSON object from 'start' and node ids to
-- { x, y }. Looks only: the decision never reads it, and it is not published to the edge. NULL: the
-- canvas lays the graph out itself.
ALTER TABLE workflows ADD COLUMN layout TEXT;
