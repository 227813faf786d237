#ifndef SX_AGENT_WEBHOOK_H
#define SX_AGENT_WEBHOOK_H
/*
 * The webhook sender: delivers the outbox (webhook_deliveries) that every
 * final status change fills in the same transaction.
 *
 * A sender claims one due delivery at a time with SELECT … FOR UPDATE SKIP
 * LOCKED and puts a lease on the row (lease_owner, lease_until) for the
 * length of the attempt, so two senders — on one machine or on two — never
 * send one delivery at the same time, and a sender that dies mid-attempt
 * only delays the delivery until its lease ends.  Each attempt POSTs the
 * webhook body of core/webhook_msg.h (the task object without `request`
 * merged with the run object without `run_request`), signed for the task's
 * organization (core/sign.h), with an x-sextant-delivery-id header that is
 * the same on every retry so receivers can drop duplicates.  Delivery is at
 * least once: a receiver's 2xx is recorded before the next claim, and only a
 * crash between the answer and that write can repeat a delivery.
 *
 * Every attempt is a webhook_attempts row.  2xx delivers; timeouts,
 * connection errors, 408, 425, 429 and 5xx are retried with exponential
 * backoff and full jitter (Retry-After seconds honoured) until the retry
 * window after the delivery's creation ends; any other answer, and a refusal
 * by the SSRF guard, is final.  tasks.webhook_failure_reason says what the
 * last attempt met, and is cleared by a success.
 */
#include "sx.h"

struct sx_conf;

/*
 * Runs the sender until sx_stopping (core/supervise.h) is set, with its own
 * database connection and HTTP client.  Returns the worker's exit status.
 */
int webhook_sender_main(const struct sx_conf *c);
/*
 * sextant-agent --drain's sender: delivers every delivery that is due now,
 * then returns 0 (1 when the database could not be asked).  A delivery
 * whose retry lies in the future waits for the next run.
 */
int webhook_sender_drain(const struct sx_conf *c);

/*
 * The wait before retry number `attempt` (1 for the first retry): a random
 * value in [0, min(max_ms, base_ms * 2^(attempt-1))] ("full jitter"), at
 * least retry_after_s seconds when the receiver asked for that (pass -1 for
 * none).  r is a random 64-bit value; exposed for tests.
 */
long long webhook_retry_delay_ms(long long base_ms, long long max_ms, long long attempt,
				 long long retry_after_s, uint64_t r);
#endif
