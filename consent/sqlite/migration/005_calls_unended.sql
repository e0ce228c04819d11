-- 005_calls_unended: find the calls whose end was never stamped.
--
-- A flow stamps ended_at at the hang-up. When the daemon stopped mid-call, or a call's socket
-- broke first, no flow saw the end: reconcile then asks FreeSWITCH about each such call, every
-- minute, and stamps the time it learns that the channel is gone. They are few among all the
-- calls kept for retention, so a partial index finds them without reading the table.
CREATE INDEX calls_unended ON calls (started_at) WHERE ended_at IS NULL;
