/* Unit tests for core/supervise.c: waiting for workers without replacing them. */
#include <criterion/criterion.h>
#include <unistd.h>
#include "sx.h"
#include "supervise.h"
#include "timeutil.h"

/* Exits with the status its index names. */
static int exit_with_index(int index, void *arg)
{
	(void)arg;
	return index;
}

/* Says it runs (a byte on the pipe arg names), runs until it is told to stop, then exits 0. */
static int until_stopped(int index, void *arg)
{
	(void)index;
	if (write(*(int *)arg, "r", 1) != 1)
		return 1;
	while (!sx_stopping)
		sx_sleep_ms(50, &sx_stopping);
	return 0;
}

Test(supervise, wait_workers_counts_the_failed_and_clears_every_slot)
{
	pid_t pids[4];

	pids[0] = sx_spawn_worker(exit_with_index, 0, NULL);
	pids[1] = sx_spawn_worker(exit_with_index, 3, NULL);
	pids[2] = 0;    /* a slot without a worker is skipped */
	pids[3] = sx_spawn_worker(exit_with_index, 0, NULL);
	cr_assert_eq(sx_wait_workers(pids, 4), 1);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pids[i], 0, "slot %d", i);
}

Test(supervise, wait_workers_passes_a_stop_on)
{
	pid_t pids[2];
	int ready[2];
	char buf[2];

	cr_assert_eq(pipe(ready), 0);
	pids[0] = sx_spawn_worker(until_stopped, 0, &ready[1]);
	pids[1] = sx_spawn_worker(until_stopped, 1, &ready[1]);
	cr_assert(pids[0] > 0 && pids[1] > 0);
	/* Both run their function, so both have their stop handler (a SIGTERM before it would kill them). */
	cr_assert_eq(read(ready[0], buf, 1), 1);
	cr_assert_eq(read(ready[0], buf + 1, 1), 1);
	/* As SIGTERM would set it in this process: the workers are told once and end. */
	sx_stopping = 1;
	cr_assert_eq(sx_wait_workers(pids, 2), 0);
	cr_assert_eq(pids[0], 0);
	cr_assert_eq(pids[1], 0);
	sx_stopping = 0;
	close(ready[0]);
	close(ready[1]);
}
