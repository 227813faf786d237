#ifndef SX_TEST_WAIT_H
#define SX_TEST_WAIT_H
/*
 * Waiting in tests: every wait is on a condition with a deadline, never a
 * fixed sleep.  A condition is a function of one argument that says whether
 * what the test waits for holds now; it is polled every WAIT_POLL_MS.
 */
#include <stdbool.h>

#define WAIT_POLL_MS 40

typedef bool (*wait_cond)(void *arg);

/*
 * Polls cond(arg) until it holds or timeout_ms has passed.  Returns true as
 * soon as it holds (it is checked once more at the deadline), false when it
 * never did: the caller asserts with a message that says what did not
 * happen.
 */
bool wait_until(wait_cond cond, void *arg, int timeout_ms);

/*
 * The check for something that must not happen: polls cond(arg) for ms and
 * returns false as soon as it stops holding, true when it held throughout.
 * Absence can only be watched for a while; the window is the caller's.
 */
bool holds_for(wait_cond cond, void *arg, int ms);
#endif
