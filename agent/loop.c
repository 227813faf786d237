/*
 * Loop detection (see loop.h).
 */
#include "sx.h"
#include "loop.h"

enum loop_verdict loop_judge(struct loop_guard *g, const char *fp, const char *sig)
{
	if (!sig || !*sig)
		return LOOP_OK;
	if (strcmp(sig, g->last_sig) != 0) {
		/* A new action: whatever the page, the model is not stuck. */
		g->warned = false;
		return LOOP_OK;
	}
	if (!fp || strcmp(fp, g->last_fp) != 0)
		return LOOP_OK;
	if (g->warned)
		return LOOP_STOP;
	g->warned = true;
	return LOOP_WARN;
}

void loop_record(struct loop_guard *g, const char *fp, const char *sig)
{
	snprintf(g->last_sig, sizeof(g->last_sig), "%s", sig ? sig : "");
	snprintf(g->last_fp, sizeof(g->last_fp), "%s", fp ? fp : "");
}

void loop_forget(struct loop_guard *g)
{
	g->last_sig[0] = '\0';
	g->last_fp[0] = '\0';
	g->warned = false;
}
