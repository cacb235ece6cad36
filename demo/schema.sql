-- The demo support database: customers in segments (some of whom leave), their tickets
-- (incidents, questions, requests; some escalated), contacts with customer service (with
-- their handling time), interactions across touchpoints, complaints handled to ISO 10002
-- (response, resolution, escalation, departments involved, cost) and survey answers (NPS,
-- CSAT, CES), May to October 2026. generate.sql fills it deterministically.

CREATE TABLE customers (
    id        bigint PRIMARY KEY,
    segment   text NOT NULL,
    signed_up date NOT NULL,
    churned_at timestamptz       -- NULL: still a customer
);

CREATE TABLE tickets (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    opened_at   timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('incident', 'question', 'request')),
    channel     text NOT NULL,
    escalated   boolean          -- NULL: not yet triaged
);

-- Each ticket's events for its SLAs: status changes, priority changes and public messages
-- (kind 'message', value 'customer' or 'agent'), as a helpdesk's audit log keeps them.
CREATE TABLE ticket_events (
    ticket_id bigint NOT NULL REFERENCES tickets,
    kind      text NOT NULL CHECK (kind IN ('status', 'priority', 'message')),
    value     text,
    at        timestamptz NOT NULL
);

CREATE TABLE contacts (
    id           bigint PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers,
    contacted_at timestamptz NOT NULL,
    channel      text NOT NULL,
    handle_time  interval NOT NULL  -- talk, hold and wrap-up time of the agent
);

CREATE TABLE interactions (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    occurred_at timestamptz NOT NULL,
    touchpoint  text NOT NULL
);

CREATE TABLE complaints (
    id                        bigint PRIMARY KEY,
    customer_id               bigint NOT NULL REFERENCES customers,
    opened_at                 timestamptz NOT NULL,
    first_response_at         timestamptz,   -- NULL: not answered yet
    resolved_at               timestamptz,   -- NULL: not resolved yet
    escalated                 boolean NOT NULL,
    cross_functional          boolean NOT NULL,  -- needed several departments
    resolved_at_first_contact boolean NOT NULL,
    resolution_cost           numeric(10, 2)  -- known once resolved
);

CREATE TABLE survey_answers (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    answered_at timestamptz NOT NULL,
    survey      text NOT NULL CHECK (survey IN ('nps', 'csat', 'ces')),
    score       integer NOT NULL
);

CREATE INDEX ON tickets (customer_id, opened_at);
CREATE INDEX ON contacts (customer_id, contacted_at);
CREATE INDEX ON interactions (customer_id, occurred_at);
CREATE INDEX ON complaints (customer_id, opened_at);
CREATE INDEX ON survey_answers (customer_id, answered_at);
