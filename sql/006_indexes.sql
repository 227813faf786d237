-- Indexes that earn their write cost (issue 15).  Every secondary index is
-- one more write on each INSERT into its table and on each UPDATE of its
-- columns; these three serve no query better than the indexes kept.
--
-- ix_tasks_lease (status, lease_until): the claim's expired-lease subquery
-- (status = 'running' AND lease_until < now ORDER BY lease_until LIMIT 1)
-- and the /metrics worker count read the running tasks through
-- ix_tasks_claim (status, queued_at) instead: there are at most as many as
-- agent workers, while this index was rewritten on every lease renewal.
--
-- ix_tasks_org_status_created (org_id, status, created_at): a filtered list
-- page (org_id = ? AND status IN (…) ORDER BY created_at, id LIMIT …) reads
-- ix_tasks_org_created in the page's order and stops once the page is
-- full; through this index it would read every task of the statuses asked
-- for and sort them.  It was rewritten on every status change.
--
-- ix_idem_created (created_at): no statement reads idempotency_keys by
-- created_at (a create takes over an expired key itself, by primary key).
--
-- Kept, each for its query: tasks' primary key (every read and update by
-- id), ix_tasks_org_created (the list pages, and the organization's foreign
-- key), ix_tasks_claim (the claim's queued subquery, the waiting count),
-- uq_api_keys_hash (the key check folded into every API statement),
-- idempotency_keys' primary key (the create's claim).
ALTER TABLE tasks DROP INDEX IF EXISTS ix_tasks_lease,
  DROP INDEX IF EXISTS ix_tasks_org_status_created;
ALTER TABLE idempotency_keys DROP INDEX IF EXISTS ix_idem_created;
