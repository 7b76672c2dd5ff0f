-- Phone dial-in: every meeting gets a numeric dial-in PIN (10 digits, an affine permutation of a sequence: unique
-- without retries, not in creation order), and phone callers are participants without a user account (role `phone`).
CREATE SEQUENCE meeting_dial_pin_seq;
ALTER TABLE meetings ADD COLUMN dial_pin text NOT NULL
  DEFAULT lpad(((nextval('meeting_dial_pin_seq') * 7368787 + 1234567891) % 10000000000)::text, 10, '0');
CREATE UNIQUE INDEX meetings_dial_pin_key ON meetings (dial_pin);

ALTER TABLE meeting_participants DROP CONSTRAINT IF EXISTS meeting_participants_user_id_fkey;
ALTER TABLE meeting_participants DROP CONSTRAINT IF EXISTS meeting_participants_role_check;
ALTER TABLE meeting_participants ADD CONSTRAINT meeting_participants_role_check
  CHECK (role IN ('host', 'cohost', 'panelist', 'participant', 'attendee', 'phone'));
