-- The demo support database: customers in segments, their tickets (incidents, questions,
-- requests; some escalated), contacts with customer service, and interactions across
-- touchpoints, May to October 2026. generate.sql fills it deterministically.

CREATE TABLE customers (
    id        bigint PRIMARY KEY,
    segment   text NOT NULL,
    signed_up date NOT NULL
);

CREATE TABLE tickets (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    opened_at   timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('incident', 'question', 'request')),
    channel     text NOT NULL,
    escalated   boolean          -- NULL: not yet triaged
);

CREATE TABLE contacts (
    id           bigint PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers,
    contacted_at timestamptz NOT NULL,
    channel      text NOT NULL
);

CREATE TABLE interactions (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    occurred_at timestamptz NOT NULL,
    touchpoint  text NOT NULL
);

CREATE INDEX ON tickets (customer_id, opened_at);
CREATE INDEX ON contacts (customer_id, contacted_at);
CREATE INDEX ON interactions (customer_id, occurred_at);
