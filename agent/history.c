/*
 * The model's history (see history.h), kept as a JSON array of strings in
 * the run.
 */
#include "sx.h"
#include "buf.h"
#include "history.h"
#include "mask.h"
#include "run.h"

void history_add(struct run *run, long long order, const char *line)
{
	char *masked = mask_text(run->mask, line);
	char *entry = xasprintf("step %lld: %s", order, masked);

	json_object_array_add(run->history, json_object_new_string(entry));
	while (json_object_array_length(run->history) > HISTORY_KEEP)
		json_object_array_del_idx(run->history, 0, 1);
	free(entry);
	free(masked);
}

char *history_text(const struct run *run)
{
	struct sx_buf b;
	char *s;

	sx_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < json_object_array_length(run->history); i++) {
		sx_buf_puts(&b, json_object_get_string(json_object_array_get_idx(run->history, i)));
		sx_buf_putc(&b, '\n');
	}
	s = sx_buf_detach(&b, NULL);
	return s ? s : xstrdup("");
}
