-- 2FA codes pushed to POST /api/v1/totp, or fetched for a task.
CREATE TABLE IF NOT EXISTS totp_codes (
  id               VARCHAR(40)  NOT NULL PRIMARY KEY,
  org_id           VARCHAR(40)  NOT NULL,
  totp_identifier  VARCHAR(255) NOT NULL,
  task_id          VARCHAR(40)  NULL,
  content          TEXT         NOT NULL,
  code             VARCHAR(16)  NULL,
  source           VARCHAR(64)  NULL,
  expired_at       DATETIME(6)  NULL,
  used_at          DATETIME(6)  NULL,
  created_at       DATETIME(6)  NOT NULL,
  KEY ix_totp_lookup (org_id, totp_identifier, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The webhook outbox: one row per delivery, written in the same transaction
-- as the task's final status, retried until delivered or its window ends.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id               VARCHAR(40)  NOT NULL PRIMARY KEY,
  task_id          VARCHAR(40)  NOT NULL,
  org_id           VARCHAR(40)  NOT NULL,
  url              TEXT         NOT NULL,
  status           VARCHAR(16)  NOT NULL DEFAULT 'pending',
  attempts         INT          NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6)  NOT NULL,
  expires_at       DATETIME(6)  NOT NULL,
  last_status_code INT          NULL,
  last_error       TEXT         NULL,
  lease_owner      VARCHAR(128) NULL,
  lease_until      DATETIME(6)  NULL,
  created_at       DATETIME(6)  NOT NULL,
  delivered_at     DATETIME(6)  NULL,
  KEY ix_webhook_due (status, next_attempt_at),
  KEY ix_webhook_task (task_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS webhook_attempts (
  id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  delivery_id  VARCHAR(40)  NOT NULL,
  attempt      INT          NOT NULL,
  status_code  INT          NULL,
  error        TEXT         NULL,
  duration_ms  INT          NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  KEY ix_attempts_delivery (delivery_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
