-- Users, their external identities, contacts, and the signing keys of the control plane.
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  password_hash text,                 -- null for users who only sign in through an external IdP
  display_name  text NOT NULL,
  avatar_url    text,
  time_zone     text NOT NULL DEFAULT 'UTC',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_display_name_idx ON users (lower(display_name));

CREATE TABLE external_identities (
  issuer   text NOT NULL,
  subject  text NOT NULL,
  user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (issuer, subject)
);

CREATE TABLE contacts (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  contact_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, contact_id),
  CHECK (user_id <> contact_id)
);

-- ES256 keys: `join` signs join tokens and host commands (edge nodes verify against /.well-known/jwks.json),
-- `oidc` signs the internal IdP's tokens. The newest unretired key of a purpose signs; retired keys stay
-- published until they expire so that tokens they signed still verify.
CREATE TABLE signing_keys (
  kid          text PRIMARY KEY,
  purpose      text NOT NULL CHECK (purpose IN ('join', 'oidc')),
  private_jwk  jsonb NOT NULL,
  public_jwk   jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  retired_at   timestamptz
);
