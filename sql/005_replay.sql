-- Replay (issue 12): the trace of a task that completed, verified, kept per
-- organization and key, so that a later task with the same key repeats it
-- without the model (agent/replay.c).  The key is the organization, the
-- normalized start URL, both goals, the schema and the set of payload keys
-- (never their values); trace_key is the hex SHA-256 of its canonical JSON,
-- key_json that JSON itself, for `sextant-admin trace list`.  trace_json
-- holds pages, actions with element fingerprints, value sources ($.email)
-- and the evidence of success; never a secret value (agent/trace.c checks
-- before it stores).  A healed run replaces the row and raises version.
CREATE TABLE IF NOT EXISTS traces (
  id              VARCHAR(40)  NOT NULL,
  org_id          VARCHAR(40)  NOT NULL,
  trace_key       CHAR(64)     NOT NULL,
  key_json        MEDIUMTEXT   NOT NULL,
  trace_json      MEDIUMTEXT   NOT NULL,
  version         INT          NOT NULL DEFAULT 1,
  step_count      INT          NOT NULL,
  model_tokens    BIGINT       NOT NULL DEFAULT 0,
  source_task_id  VARCHAR(40)  NOT NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  PRIMARY KEY (org_id, trace_key),
  UNIQUE KEY ux_traces_id (id),
  CONSTRAINT fk_traces_org FOREIGN KEY (org_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What replay did for a task, as JSON: {"outcome": "hit" | "healed" |
-- "miss" | "off", "healed_at_step", "model_tokens_saved", "trace_id",
-- "trace_version"}; NULL until the agent ends the task.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS replay TEXT NULL;
