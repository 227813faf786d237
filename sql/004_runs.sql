-- The run API (POST /v1/run/tasks): the fields of Skyvern's TaskRunRequest
-- that have no meaning here (engine, run_with, model, …), kept as the client
-- sent them (defaults filled in) so GET /v1/runs/{id} can show them back.
-- NULL for a task created through /api/v1/tasks.  The meaningful fields live
-- in `request`, as for any task.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS run_request LONGTEXT NULL;
