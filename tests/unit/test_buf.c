#include "buf.h"

#include <criterion/criterion.h>

Test(buf, empty_buffer_is_an_empty_string)
{
	struct sx_buf b;

	sx_buf_init(&b, 16);
	cr_assert_str_eq(sx_buf_str(&b), "");
	cr_assert_eq(b.len, 0);
	cr_assert_null(b.data);
	sx_buf_release(&b);
}

Test(buf, append_grows_and_terminates)
{
	struct sx_buf b;
	char chunk[100];
	size_t i;

	memset(chunk, 'a', sizeof(chunk));
	sx_buf_init(&b, 100000);
	for (i = 0; i < 500; i++)
		cr_assert_eq(sx_buf_append(&b, chunk, sizeof(chunk)), SX_OK);
	cr_assert_eq(b.len, 50000);
	cr_assert_eq(b.data[b.len], '\0');
	cr_assert_eq(strlen(b.data), 50000);
	cr_assert(b.cap <= b.max + 1);
	cr_assert_eq(sx_buf_puts(&b, "xyz"), SX_OK);
	cr_assert_eq(sx_buf_putc(&b, '!'), SX_OK);
	cr_assert_str_eq(b.data + 50000, "xyz!");
	sx_buf_release(&b);
	cr_assert_null(b.data);
}

Test(buf, binary_data_keeps_length)
{
	struct sx_buf b;

	sx_buf_init(&b, 16);
	cr_assert_eq(sx_buf_append(&b, "a\0b", 3), SX_OK);
	cr_assert_eq(b.len, 3);
	cr_assert_eq(memcmp(b.data, "a\0b", 4), 0);
	sx_buf_release(&b);
}

Test(buf, cap_is_exact_and_overflow_changes_nothing)
{
	struct sx_buf b;

	sx_buf_init(&b, 8);
	cr_assert_eq(sx_buf_puts(&b, "12345"), SX_OK);
	cr_assert_eq(sx_buf_puts(&b, "6789"), SX_ETOOBIG);
	cr_assert_eq(b.len, 5);
	cr_assert_str_eq(sx_buf_str(&b), "12345");
	cr_assert_eq(sx_buf_puts(&b, "678"), SX_OK);
	cr_assert_str_eq(sx_buf_str(&b), "12345678");
	cr_assert_eq(sx_buf_putc(&b, 'x'), SX_ETOOBIG);
	cr_assert_eq(sx_buf_append(&b, "", 0), SX_OK);
	cr_assert_eq(sx_buf_append(&b, "x", SIZE_MAX), SX_ETOOBIG);
	cr_assert_eq(b.len, 8);
	cr_assert(b.cap <= 9);
	sx_buf_release(&b);
}

Test(buf, printf_appends_formatted)
{
	struct sx_buf b;

	sx_buf_init(&b, 64);
	cr_assert_eq(sx_buf_printf(&b, "%s=%d", "a", 1), SX_OK);
	cr_assert_eq(sx_buf_printf(&b, " %s=%d", "bb", 22), SX_OK);
	cr_assert_str_eq(sx_buf_str(&b), "a=1 bb=22");
	cr_assert_eq(b.len, 9);
	sx_buf_release(&b);
}

Test(buf, printf_past_cap_appends_nothing)
{
	struct sx_buf b;

	sx_buf_init(&b, 10);
	cr_assert_eq(sx_buf_puts(&b, "abcdef"), SX_OK);
	cr_assert_eq(sx_buf_printf(&b, "%s", "12345"), SX_ETOOBIG);
	cr_assert_eq(b.len, 6);
	cr_assert_str_eq(sx_buf_str(&b), "abcdef");
	cr_assert_eq(sx_buf_printf(&b, "%d", 1234), SX_OK);
	cr_assert_str_eq(sx_buf_str(&b), "abcdef1234");
	sx_buf_release(&b);
}

Test(buf, printf_growth_across_many_calls)
{
	struct sx_buf b;
	int i;

	sx_buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(sx_buf_printf(&b, "%04d,", i), SX_OK);
	cr_assert_eq(b.len, 5000);
	cr_assert_eq(strncmp(b.data + 4995, "0999,", 5), 0);
	sx_buf_release(&b);
}

Test(buf, reset_keeps_memory)
{
	struct sx_buf b;
	char *mem;

	sx_buf_init(&b, 64);
	cr_assert_eq(sx_buf_puts(&b, "hello"), SX_OK);
	mem = b.data;
	sx_buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(sx_buf_str(&b), "");
	cr_assert_eq(b.data, mem);
	cr_assert_eq(sx_buf_puts(&b, "hi"), SX_OK);
	cr_assert_str_eq(sx_buf_str(&b), "hi");
	sx_buf_release(&b);
}

Test(buf, detach_hands_over_and_empties)
{
	struct sx_buf b;
	size_t len = 99;
	char *s;

	sx_buf_init(&b, 64);
	s = sx_buf_detach(&b, &len);
	cr_assert_str_eq(s, "");
	cr_assert_eq(len, 0);
	free(s);

	cr_assert_eq(sx_buf_puts(&b, "owned"), SX_OK);
	s = sx_buf_detach(&b, &len);
	cr_assert_str_eq(s, "owned");
	cr_assert_eq(len, 5);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.max, 64);
	free(s);
	cr_assert_eq(sx_buf_puts(&b, "again"), SX_OK);
	cr_assert_str_eq(sx_buf_str(&b), "again");
	sx_buf_release(&b);
}

Test(buf, zero_cap_buffer_refuses_everything)
{
	struct sx_buf b;

	sx_buf_init(&b, 0);
	cr_assert_eq(sx_buf_putc(&b, 'a'), SX_ETOOBIG);
	cr_assert_eq(sx_buf_printf(&b, "x"), SX_ETOOBIG);
	cr_assert_eq(sx_buf_printf(&b, "%s", ""), SX_OK);
	cr_assert_str_eq(sx_buf_str(&b), "");
	sx_buf_release(&b);
}
