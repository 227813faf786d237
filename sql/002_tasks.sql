-- Tasks and their steps.  `request` holds the normalized create request
-- (including navigation_payload, which is never logged).  The artifact
-- columns keep the paths the task object shows, so reading a task or a page
-- of tasks is one query.
CREATE TABLE IF NOT EXISTS tasks (
  id                      VARCHAR(40)  NOT NULL PRIMARY KEY,
  org_id                  VARCHAR(40)  NOT NULL,
  status                  VARCHAR(16)  NOT NULL,
  request                 LONGTEXT     NOT NULL,
  max_steps               INT          NOT NULL,
  extracted_information   LONGTEXT     NULL,
  failure_reason          TEXT         NULL,
  errors                  LONGTEXT     NULL,
  webhook_failure_reason  TEXT         NULL,
  proxy_used              VARCHAR(255) NULL,
  screenshot_artifact     VARCHAR(1024) NULL,
  recording_artifact      VARCHAR(1024) NULL,
  action_screenshot_artifacts TEXT     NULL,
  step_count              INT          NOT NULL DEFAULT 0,
  attempt                 INT          NOT NULL DEFAULT 0,
  lease_owner             VARCHAR(128) NULL,
  lease_until             DATETIME(6)  NULL,
  created_at              DATETIME(6)  NOT NULL,
  modified_at             DATETIME(6)  NOT NULL,
  queued_at               DATETIME(6)  NULL,
  started_at              DATETIME(6)  NULL,
  finished_at             DATETIME(6)  NULL,
  KEY ix_tasks_org_created (org_id, created_at, id),
  KEY ix_tasks_org_status_created (org_id, status, created_at),
  KEY ix_tasks_claim (status, queued_at),
  KEY ix_tasks_lease (status, lease_until),
  CONSTRAINT fk_tasks_org FOREIGN KEY (org_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS steps (
  id                  VARCHAR(40)  NOT NULL PRIMARY KEY,
  task_id             VARCHAR(40)  NOT NULL,
  org_id              VARCHAR(40)  NOT NULL,
  status              VARCHAR(16)  NOT NULL,
  step_order          INT          NOT NULL,
  retry_index         INT          NOT NULL DEFAULT 0,
  is_last             TINYINT(1)   NOT NULL DEFAULT 0,
  input_token_count   INT          NOT NULL DEFAULT 0,
  output_token_count  INT          NOT NULL DEFAULT 0,
  step_cost           DOUBLE       NOT NULL DEFAULT 0,
  output              LONGTEXT     NULL,
  created_at          DATETIME(6)  NOT NULL,
  modified_at         DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_steps_order (task_id, step_order, retry_index),
  CONSTRAINT fk_steps_task FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Files the agent wrote (screenshots, LLM exchanges, recordings), by path
-- relative to artifacts_dir.
CREATE TABLE IF NOT EXISTS artifacts (
  id          VARCHAR(40)  NOT NULL PRIMARY KEY,
  task_id     VARCHAR(40)  NOT NULL,
  org_id      VARCHAR(40)  NOT NULL,
  step_id     VARCHAR(40)  NULL,
  type        VARCHAR(32)  NOT NULL,
  path        VARCHAR(1024) NOT NULL,
  bytes       BIGINT       NOT NULL DEFAULT 0,
  created_at  DATETIME(6)  NOT NULL,
  KEY ix_artifacts_task (task_id, type, created_at),
  KEY ix_artifacts_created (created_at),
  CONSTRAINT fk_artifacts_task FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The same Idempotency-Key from the same organization returns the first task.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  org_id      VARCHAR(40)  NOT NULL,
  idem_key    VARCHAR(255) NOT NULL,
  task_id     VARCHAR(40)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (org_id, idem_key),
  KEY ix_idem_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
