-- Organizations, their API keys and the migration ledger.
CREATE TABLE IF NOT EXISTS organizations (
  id              VARCHAR(40)  NOT NULL PRIMARY KEY,
  name            VARCHAR(255) NOT NULL,
  signing_secret  VARCHAR(128) NOT NULL,
  signature_mode  VARCHAR(16)  NOT NULL DEFAULT 'slack',
  max_steps       INT          NULL,
  created_at      DATETIME(6)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Keys are stored as the hex SHA-256 of the key, never the key itself.
CREATE TABLE IF NOT EXISTS api_keys (
  id          VARCHAR(40)  NOT NULL PRIMARY KEY,
  org_id      VARCHAR(40)  NOT NULL,
  key_hash    CHAR(64)     NOT NULL,
  key_prefix  VARCHAR(16)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  revoked_at  DATETIME(6)  NULL,
  UNIQUE KEY uq_api_keys_hash (key_hash),
  KEY ix_api_keys_org (org_id),
  CONSTRAINT fk_api_keys_org FOREIGN KEY (org_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
